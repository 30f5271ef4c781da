package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wardhealth/ward/internal/synth"
)

func benchCmd(args []string, env Env) error {
	if len(args) > 0 && args[0] == "run" {
		return benchRunCmd(args[1:], env)
	}
	if len(args) > 0 && args[0] == "search" {
		return benchSearchCmd(args[1:], env)
	}
	if len(args) == 0 || args[0] != "gen" {
		fmt.Fprint(env.Stderr, "Usage: ward bench gen --patients N [--seed S] [--format bundle|ndjson] [--out PATH]\n       "+benchSearchSynopsis+"\n       "+benchRunSynopsis+"\n")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return errHelp
		}
		return errUsage
	}
	fs := newFlags("bench gen", "ward bench gen --patients N [--seed S] [--format bundle|ndjson] [--out PATH]\n\n"+
		"Writes deterministic synthetic patients (no real data): the same seed and options give the same bytes.\n"+
		"bundle: one transaction Bundle per line to --out (a file, or - for standard output).\n"+
		"ndjson: one <Type>.ndjson file per resource type in the --out directory.", env)
	patients := fs.Int("patients", 0, "number of patients (required)")
	seed := fs.Int64("seed", 1, "random seed")
	format := fs.String("format", "bundle", "bundle or ndjson")
	out := fs.String("out", "-", "output file (bundle) or directory (ndjson)")
	def := synth.DefaultOptions()
	opts := def
	fs.IntVar(&opts.Encounters, "encounters", def.Encounters, "encounters per patient")
	fs.IntVar(&opts.Conditions, "conditions", def.Conditions, "conditions per patient")
	fs.IntVar(&opts.Observations, "observations", def.Observations, "observations per patient")
	fs.IntVar(&opts.MedicationRequests, "medication-requests", def.MedicationRequests, "medication requests per patient")
	fs.IntVar(&opts.Notes, "notes", def.Notes, "clinical notes per patient")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *patients < 1 || (*format != "bundle" && *format != "ndjson") || (*format == "ndjson" && *out == "-") {
		fmt.Fprintln(env.Stderr, "--patients must be at least 1; --format bundle or ndjson; ndjson needs an --out directory")
		fs.Usage()
		return errUsage
	}
	g, err := synth.New(*seed, opts)
	if err != nil {
		return err
	}
	ctx := context.Background()
	var st synth.Stats
	if *format == "bundle" {
		err = withOutput(*out, env.Stdout, func(w io.Writer) error {
			st, err = g.WriteBundles(ctx, w, 0, *patients)
			return err
		})
	} else {
		st, err = writeNDJSON(ctx, g, *out, *patients)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "generated %d patients, %d resources, %d bytes\n", st.Patients, st.Resources, st.Bytes)
	return nil
}

// withOutput runs fn on a buffered writer to path ("-" = stdout), flushing and closing it.
func withOutput(path string, stdout io.Writer, fn func(io.Writer) error) error {
	dst, closeFn := stdout, func() error { return nil }
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		dst, closeFn = f, f.Close
	}
	bw := bufio.NewWriterSize(dst, 1<<20)
	err := fn(bw)
	return errors.Join(err, bw.Flush(), closeFn())
}

func writeNDJSON(ctx context.Context, g *synth.Generator, dir string, patients int) (synth.Stats, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return synth.Stats{}, err
	}
	outs := map[string]io.Writer{}
	var bufs []*bufio.Writer
	var files []*os.File
	for _, typ := range synth.ResourceTypes() {
		f, err := os.Create(filepath.Join(dir, typ+".ndjson"))
		if err != nil {
			return synth.Stats{}, err
		}
		files = append(files, f)
		bw := bufio.NewWriterSize(f, 1<<20)
		bufs = append(bufs, bw)
		outs[typ] = bw
	}
	st, err := g.WriteNDJSON(ctx, outs, 0, patients)
	for i := range files {
		err = errors.Join(err, bufs[i].Flush(), files[i].Close())
	}
	return st, err
}
