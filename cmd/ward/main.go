// Command ward is a HIPAA-ready FHIR R4 server in one binary.
package main

import (
	"os"

	"github.com/wardhealth/ward/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}
