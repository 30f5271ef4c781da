package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/auditfhir"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/fhir"
)

const auditUsage = "Usage: ward audit init-key --out PATH | ward audit verify [--checkpoints FILE] [--data-dir DIR] |\n" +
	"       ward audit archive --out FILE [--before TIME] | ward audit verify-archive FILE... | ward audit prune --archive FILE |\n" +
	"       ward audit proof (--index N | --from A) [--size M] [--data-dir DIR] |\n" +
	"       ward audit export --fhir [--from TIME] [--to TIME] [--data-dir DIR] |\n" +
	"       ward audit report (--patient ID | --user ID) [--from TIME] [--to TIME] [--format text|csv|html] [--out FILE]\n"

func auditCmd(args []string, env Env) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "archive", "verify-archive", "prune":
		return auditRetentionCmd(sub, args, env)
	case "init-key":
		fs := newFlags("audit init-key", "ward audit init-key --out PATH [--base-url URL]   (checkpoint signing key, 0600; verifier key at PATH.pub)", env)
		out := fs.String("out", "", "path of the new key file (must not exist)")
		base := fs.String("base-url", "https://localhost", "the deployment's public URL; its host names the log")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if *out == "" {
			fs.Usage()
			return errUsage
		}
		if err := app.CreateAuditKey(*out, *base); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created %s (secret) and %s.pub (give the verifier key to auditors); set WARD_AUDIT_KEY=%s\n", *out, *out, *out)
		return nil
	case "verify":
		var c common
		fs := newFlags("audit verify", "ward audit verify [--checkpoints FILE] [--verifier-key FILE]\n\n"+
			"Recomputes the Merkle tree from the stored events and checks every stored and external\n"+
			"checkpoint. Exit 0 when intact; 1 with the first index where history diverges.", env)
		c.register(fs, false)
		cps := fs.String("checkpoints", "", "external checkpoint file (default: the configured audit_checkpoints file)")
		vkeyFile := fs.String("verifier-key", "", "verifier key file (default: the configured audit_key's .pub)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		cfg, err := c.loadData(env)
		if err != nil {
			return err
		}
		return verifyAudit(cfg, *cps, *vkeyFile, env)
	case "proof":
		var c common
		fs := newFlags("audit proof", "ward audit proof (--index N | --from A) [--size M]\n\n"+
			"Prints, as JSON, the RFC 6962 inclusion proof of event N, or the consistency proof from\n"+
			"the tree of size A, in the tree of size M (default: the latest stored checkpoint's).", env)
		c.register(fs, false)
		index := fs.Int64("index", -1, "event index for an inclusion proof")
		from := fs.Uint64("from", 0, "earlier tree size for a consistency proof")
		size := fs.Uint64("size", 0, "tree size the proof is for (default: latest checkpoint)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if (*index >= 0) == (*from > 0) {
			fmt.Fprintln(env.Stderr, "give exactly one of --index and --from")
			fs.Usage()
			return errUsage
		}
		cfg, err := c.loadData(env)
		if err != nil {
			return err
		}
		return auditProof(cfg, *index, *from, *size, env)
	case "export":
		var c common
		fs := newFlags("audit export", "ward audit export --fhir [--from TIME] [--to TIME]\n\n"+
			"Writes the recorded events as FHIR R4 AuditEvent resources, one JSON per line (NDJSON),\n"+
			"for events recorded at or after --from and before --to (RFC 3339).", env)
		c.register(fs, false)
		asFHIR := fs.Bool("fhir", false, "FHIR R4 AuditEvent resources (the only format so far; required)")
		from := fs.String("from", "", "first time included (RFC 3339)")
		to := fs.String("to", "", "first time excluded (RFC 3339)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		lo, err := timeFlag("from", *from, time.Time{})
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			return errUsage
		}
		hi, err := timeFlag("to", *to, time.Time{})
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			return errUsage
		}
		if !*asFHIR {
			fmt.Fprintln(env.Stderr, "--fhir is required")
			fs.Usage()
			return errUsage
		}
		cfg, err := c.loadData(env)
		if err != nil {
			return err
		}
		return exportAudit(cfg, lo, hi, env)
	case "report":
		return auditReportCmd(args, env)
	case "--help", "-h":
		fmt.Fprint(env.Stdout, auditUsage)
		return errHelp
	}
	fmt.Fprint(env.Stderr, auditUsage)
	return errUsage
}

func verifyAudit(cfg config.Config, cpsFile, vkeyFile string, env Env) error {
	verifier, err := loadVerifier(cfg.AuditKey, vkeyFile)
	if err != nil {
		return err
	}
	if cpsFile == "" {
		cpsFile = cfg.AuditCheckpoints
	}
	external, err := os.ReadFile(cpsFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(env.Stderr, "warning: no external checkpoint file at %s; checking the database's own checkpoints only\n", cpsFile)
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := ledger.Verify(ctx, db, verifier, external)
	if err != nil {
		return err
	}
	if rep.OK() {
		fmt.Fprintf(env.Stdout, "audit ledger intact: %d events; %d signed checkpoints verified (%d from the external file); covered up to event %d\n",
			rep.Leaves, rep.Checkpoints, rep.External, rep.Verified)
		if rep.Floor > 0 {
			fmt.Fprintf(env.Stdout, "events below %d were archived and pruned: verified from the signed prune record there; %d of %d older checkpoints could not be checked against it\n",
				rep.Floor, rep.OlderUnchecked, rep.Older)
		}
		return nil
	}
	if rep.Divergence != nil {
		fmt.Fprintf(env.Stdout, "TAMPERED: %s\n", rep.Divergence)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(env.Stdout, "problem: %s\n", p)
	}
	summary := "ward audit verify failed"
	if rep.Divergence != nil {
		summary += ": " + rep.Divergence.String()
	} else if len(rep.Problems) > 0 {
		summary += ": " + rep.Problems[0]
	}
	if err := app.RaiseVerificationAlert(ctx, cfg, db, summary, nil); err != nil {
		fmt.Fprintf(env.Stderr, "warning: could not raise the alert: %v\n", err)
	}
	return errors.New("audit ledger verification failed")
}

// auditProof prints an inclusion (index >= 0) or consistency (from > 0)
// proof from the stored ledger.
func auditProof(cfg config.Config, index int64, from, size uint64, env Env) error {
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if size == 0 {
		err := db.ScanCheckpoints(ctx, func(s uint64, _ []byte) error { size = s; return nil })
		if err != nil {
			return err
		}
		if size == 0 {
			return errors.New("no stored checkpoint yet: pass --size")
		}
	}
	out := map[string]any{"tree_size": size}
	if index >= 0 {
		if uint64(index) >= size {
			return fmt.Errorf("--index %d is not below the tree size %d", index, size)
		}
		leaf, err := ledger.LeafHashAt(ctx, db, uint64(index))
		if err != nil {
			return err
		}
		p, err := ledger.InclusionProof(ctx, db, uint64(index), size)
		if err != nil {
			return err
		}
		out["index"], out["leaf_hash"], out["proof"] = index, leaf, p
	} else {
		if from > size {
			return fmt.Errorf("--from %d is beyond the tree size %d", from, size)
		}
		p, err := ledger.ConsistencyProof(ctx, db, from, size)
		if err != nil {
			return err
		}
		out["from"], out["proof"] = from, p
	}
	return json.NewEncoder(env.Stdout).Encode(out)
}

// exportAudit writes the stored events in [lo, hi) (zero: open) as FHIR
// AuditEvent NDJSON.
func exportAudit(cfg config.Config, lo, hi time.Time, env Env) error {
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	w := bufio.NewWriter(env.Stdout)
	n := 0
	err = ledger.Trail{R: db}.Events(ctx, 0, func(index uint64, e audit.Event) error {
		if (!lo.IsZero() && e.Time.Before(lo)) || (!hi.IsZero() && !e.Time.Before(hi)) {
			return nil
		}
		b, err := auditfhir.AuditEvent(index, e, fhir.IsResourceType)
		if err != nil {
			return err
		}
		n++
		w.Write(b)
		return w.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "exported %d AuditEvent resources\n", n)
	return nil
}

// timeFlag parses the value of the time flag --name, or returns dflt when
// it was not given; the error is a usage message.
func timeFlag(name, value string, dflt time.Time) (time.Time, error) {
	if value == "" {
		return dflt, nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s must be an RFC 3339 time such as 2026-11-23T00:00:00Z", name)
	}
	return t, nil
}
