package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/wardhealth/ward/internal/bench/load"
	"github.com/wardhealth/ward/internal/config"
)

// `ward bench run` (issue 10): drive a running ward over HTTPS with a
// load scenario and report throughput, latency and the server's usage.

const benchRunSynopsis = "ward bench run [--target URL] --scenario crud|import|search|mixed [--clients C] [--duration D] [--max-requests N] [--client-id ID --client-secret S] [--cacert FILE] [--server-pid PID] [--json]"

func benchRunCmd(args []string, env Env) error {
	fs := newFlags("bench run", benchRunSynopsis+"\n\n"+
		"Drives a running ward over HTTPS as a service client (OAuth 2 client credentials; create one\n"+
		"with `ward client create --role service`) for --duration with --clients concurrent clients,\n"+
		"and reports req/s, p50/p95/p99 latency, errors by status and, with --server-pid, the server's\n"+
		"CPU time and RSS from /proc.\n"+
		"  crud    create, read, update and delete a Patient, an Encounter and an Observation\n"+
		"  import  transaction Bundles of 100 synthetic resources; also reports resources/s\n"+
		"  search  the `ward bench search` queries over --patients preloaded synthetic patients\n"+
		"  mixed   80% reads (by id and searches), 20% writes (creates and updates)\n"+
		"The credentials may come from WARD_BENCH_CLIENT_ID and WARD_BENCH_CLIENT_SECRET instead of flags.\n"+
		"The server certificate is checked against --cacert, else the system roots and the development\n"+
		"certificate of --data-dir (tls/cert.pem), if there is one. The target must be a loopback\n"+
		"address unless --allow-remote; the data written stays in the server.", env)
	target := fs.String("target", "https://127.0.0.1:8443", "base URL of the ward to drive (https)")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not a loopback address")
	scenario := fs.String("scenario", "", "crud, import, search or mixed (required)")
	clients := fs.Int("clients", 8, "concurrent clients (1 to 1024)")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure (1s to 10m)")
	maxRequests := fs.Int("max-requests", 0, "stop after this many requests (0: 10 million)")
	patients := fs.Int("patients", load.DefaultPatients, "patients search and mixed preload before measuring (at most 10000)")
	clientID := fs.String("client-id", "", "service client id (default $WARD_BENCH_CLIENT_ID)")
	secret := fs.String("client-secret", "", "service client secret (default $WARD_BENCH_CLIENT_SECRET; the variable keeps it out of ps)")
	caFile := fs.String("cacert", "", "PEM file of the certificate authority (or self-signed certificate) to trust")
	dataDir := fs.String("data-dir", "", "data directory whose development certificate to trust (default $WARD_DATA_DIR or ./ward-data)")
	insecure := fs.Bool("insecure", false, "do not verify the server certificate")
	pid := fs.Int("server-pid", 0, "pid of the local ward process, to report its CPU time and RSS")
	seed := fs.Int64("seed", 1, "seed of the synthetic data and of the request mix")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *clientID == "" {
		*clientID = env.Getenv("WARD_BENCH_CLIENT_ID")
	}
	if *secret == "" {
		*secret = env.Getenv("WARD_BENCH_CLIENT_SECRET")
	}
	if *scenario == "" || *clientID == "" || *secret == "" {
		fmt.Fprintln(env.Stderr, "--scenario is required, and a service client: --client-id and --client-secret (or WARD_BENCH_CLIENT_ID and WARD_BENCH_CLIENT_SECRET)")
		fs.Usage()
		return errUsage
	}
	roots, err := benchRoots(*caFile, *dataDir, env)
	if err != nil {
		return err
	}
	o := load.Options{
		Target: *target, AllowRemote: *allowRemote, Scenario: *scenario, Clients: *clients, Duration: *duration,
		MaxRequests: *maxRequests, Patients: *patients, ClientID: *clientID, Secret: *secret,
		RootCAs: roots, Insecure: *insecure, ServerPID: *pid, Seed: *seed,
	}
	ctx, stop := env.Signals(context.Background())
	defer stop()
	if *scenario == "search" || *scenario == "mixed" {
		fmt.Fprintf(env.Stderr, "preloading %d synthetic patients…\n", *patients)
	}
	rep, err := load.Run(ctx, o)
	if errors.Is(err, load.ErrOptions) {
		fmt.Fprintln(env.Stderr, err)
		fs.Usage()
		return errUsage
	}
	if err != nil && (rep.Requests == 0 || !errors.Is(err, context.Canceled)) {
		return err
	}
	// Interrupted while measuring: report what was measured.
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(env.Stdout, rep.Table())
	}
	if rep.Errors > 0 {
		fmt.Fprintf(env.Stderr, "%d of %d requests failed; the first: %s\n", rep.Errors, rep.Requests, rep.FirstError)
	}
	return nil
}

// benchRoots is the pool to verify the server with: caFile alone when
// given, else the system roots plus the development certificate of the
// data directory when it has one.
func benchRoots(caFile, dataDir string, env Env) (*x509.CertPool, error) {
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		return pool, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	cfg := config.Config{DataDir: dataDir}
	if cfg.DataDir == "" {
		cfg.DataDir = env.Getenv("WARD_DATA_DIR")
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "ward-data"
	}
	cert, _ := cfg.DevTLSPaths()
	pem, err := os.ReadFile(cert)
	switch {
	case errors.Is(err, os.ErrNotExist) && dataDir == "":
		return pool, nil // no development certificate where it would be by default
	case err != nil:
		return nil, fmt.Errorf("development certificate: %w", err)
	}
	pool.AppendCertsFromPEM(pem)
	return pool, nil
}
