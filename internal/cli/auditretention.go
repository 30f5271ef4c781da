package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/config"
)

// Audit retention: ward audit archive, verify-archive and prune
// (docs/decisions/0005-audit-ledger.md, "Retention and pruning").

func auditRetentionCmd(sub string, args []string, env Env) error {
	var c common
	switch sub {
	case "archive":
		fs := newFlags("audit archive", "ward audit archive --out FILE [--before TIME]\n\n"+
			"Writes the oldest audit events, those recorded more than audit_retention ago (and before\n"+
			"--before), up to the last signed checkpoint among them, to FILE: an archive signed with the\n"+
			"audit key, which 'ward audit verify-archive' checks offline and 'ward audit prune' then\n"+
			"deletes from the database. Nothing is written when no event is old enough.", env)
		c.register(fs, false)
		out := fs.String("out", "", "archive file to create (must not exist)")
		before := fs.String("before", "", "archive only events recorded before this time (RFC 3339)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		b, err := timeFlag("before", *before, time.Time{})
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			return errUsage
		}
		if *out == "" {
			fs.Usage()
			return errUsage
		}
		cfg, err := c.loadData(env)
		if err != nil {
			return err
		}
		return archiveAudit(cfg, *out, b, env)
	case "verify-archive":
		fs := newFlags("audit verify-archive", "ward audit verify-archive [--verifier-key FILE] FILE...\n\n"+
			"Checks audit archives offline: every byte signed with the audit key, the events reproduce\n"+
			"the signed checkpoint at the archive's end, and consecutive archives continue each other.\n"+
			"Exit 0 when all are intact.", env)
		c.register(fs, false)
		vkeyFile := fs.String("verifier-key", "", "verifier key file (default: the configured audit_key's .pub)")
		if err := parse(fs, args, 1<<20); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			fs.Usage()
			return errUsage
		}
		v, err := archiveVerifier(c, *vkeyFile, env)
		if err != nil {
			return err
		}
		return verifyArchives(v, fs.Args(), env)
	case "prune":
		fs := newFlags("audit prune", "ward audit prune --archive FILE [--verifier-key FILE]\n\n"+
			"Deletes from the database the events FILE holds, after checking that it is intact, that it\n"+
			"holds exactly the stored events from where the ledger starts, and that every one of them was\n"+
			"recorded more than audit_retention ago. Refuses, changing nothing, otherwise. Keep FILE.", env)
		c.register(fs, false)
		arch := fs.String("archive", "", "archive written by 'ward audit archive' (required)")
		vkeyFile := fs.String("verifier-key", "", "verifier key file (default: the configured audit_key's .pub)")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if *arch == "" {
			fs.Usage()
			return errUsage
		}
		v, err := archiveVerifier(c, *vkeyFile, env)
		if err != nil {
			return err
		}
		cfg, err := c.loadData(env)
		if err != nil {
			return err
		}
		return pruneAudit(cfg, v, *arch, env)
	}
	return fmt.Errorf("unknown audit retention command %q", sub)
}

// archiveAudit writes the archive of the events past retention to out.
func archiveAudit(cfg config.Config, out string, before time.Time, env Env) error {
	if cfg.AuditKey == "" {
		return errors.New("no audit_key configured: the archive is signed with the checkpoint key")
	}
	signer, verifier, err := ledger.LoadKeyFile(cfg.AuditKey)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	// Created exclusively and removed on failure: no partial archive is left.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("archive file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	info, err := ledger.WriteArchive(ctx, db, signer, verifier, w, ledger.ArchiveOptions{
		Retention: cfg.AuditRetention.D(), Before: before, Now: time.Now})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		if errors.Is(err, ledger.ErrNothingToArchive) {
			fmt.Fprintf(env.Stdout, "%v; no archive written\n", err)
			return nil
		}
		return err
	}
	ev := operatorEvent(audit.ActionExecute, "audit-archive", info)
	if err := app.RecordOperator(ctx, db, []audit.Event{ev}); err != nil {
		return fmt.Errorf("archive written, but its audit event was not recorded: %w", err)
	}
	fmt.Fprintf(env.Stdout, "archived events [%d, %d) (%d events recorded %s to %s) to %s\n",
		info.From, info.To, info.To-info.From, info.Oldest.Format(time.RFC3339), info.Newest.Format(time.RFC3339), out)
	fmt.Fprintf(env.Stdout, "check it with 'ward audit verify-archive %s', keep a copy, then delete the events from the database with 'ward audit prune --archive %s'\n", out, out)
	return nil
}

// verifyArchives checks each archive, and that each continues the last.
func verifyArchives(v note.Verifier, files []string, env Env) error {
	failed := false
	var prev *ledger.ArchiveInfo
	for _, name := range files {
		info, err := verifyArchiveFile(v, name)
		if err != nil {
			fmt.Fprintf(env.Stdout, "%s: INVALID: %v\n", name, err)
			failed, prev = true, nil
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: intact: events [%d, %d), recorded %s to %s; signed checkpoint at %d reproduced\n",
			name, info.From, info.To, info.Oldest.Format(time.RFC3339), info.Newest.Format(time.RFC3339), info.To)
		if prev != nil && (info.From != prev.To || !bytes.Equal(info.Base.Hash, prev.Checkpoint.Hash)) {
			fmt.Fprintf(env.Stdout, "%s: does not continue the archive before it (which ends at %d)\n", name, prev.To)
			failed = true
		}
		prev = &info
	}
	if failed {
		return errors.New("audit archive verification failed")
	}
	return nil
}

func verifyArchiveFile(v note.Verifier, name string) (ledger.ArchiveInfo, error) {
	f, err := os.Open(name)
	if err != nil {
		return ledger.ArchiveInfo{}, err
	}
	defer f.Close()
	return ledger.VerifyArchive(f, v)
}

// pruneAudit deletes the events an archive holds.
func pruneAudit(cfg config.Config, v note.Verifier, archive string, env Env) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := ledger.Prune(ctx, db, v, f, ledger.PruneOptions{Retention: cfg.AuditRetention.D(), Now: time.Now})
	if err != nil {
		return fmt.Errorf("%w; nothing was deleted", err)
	}
	ev := operatorEvent(audit.ActionDelete, "audit-prune", info)
	if err := app.RecordOperator(ctx, db, []audit.Event{ev}); err != nil {
		return fmt.Errorf("events pruned, but the prune's audit event was not recorded: %w", err)
	}
	fmt.Fprintf(env.Stdout, "pruned events [%d, %d) from the database; the ledger now starts at %d. %s is now their only copy: keep it.\n",
		info.From, info.To, info.To, archive)
	return nil
}

// archiveVerifier is loadVerifier reading the configuration only when no
// --verifier-key is given, so archives verify offline without one.
func archiveVerifier(c common, file string, env Env) (note.Verifier, error) {
	var auditKey string
	if file == "" {
		cfg, err := c.loadData(env)
		if err != nil {
			return nil, err
		}
		auditKey = cfg.AuditKey
	}
	return loadVerifier(auditKey, file)
}

// loadVerifier reads the ledger's verifier key from file (--verifier-key)
// or else from the configured audit key's .pub.
func loadVerifier(auditKey, file string) (note.Verifier, error) {
	if file == "" {
		if auditKey == "" {
			return nil, errors.New("no verifier key: pass --verifier-key or configure audit_key")
		}
		file = auditKey + ".pub"
	}
	vkey, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return nil, fmt.Errorf("verifier key %s: %w", file, err)
	}
	return v, nil
}

// operatorEvent is the audit event of an archive or prune run by the
// operating-system user running ward.
func operatorEvent(action, subtype string, info ledger.ArchiveInfo) audit.Event {
	return app.OperatorEvent("", action, subtype, "AuditLedger", fmt.Sprintf("%d-%d", info.From, info.To), http.StatusOK)
}
