package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Prepared statements for the hot paths: parsing SQL was about a quarter
// of the writer's CPU time (BenchmarkCreate). database/sql prepares a
// statement once per connection and reuses it.

const (
	sqlCurrent = `SELECT ` + rowColumns + ` FROM resources
		WHERE tenant = ? AND type = ? AND id = ? ORDER BY version DESC LIMIT 1`
	sqlVersion = `SELECT ` + rowColumns + ` FROM resources
		WHERE tenant = ? AND type = ? AND id = ? AND version = ?`
	// sqlInsert inserts only if the version follows the current one; no
	// row affected means a version conflict.
	sqlInsert = `INSERT INTO resources (tenant, type, id, version, last_updated, deleted, key_id, body)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
		WHERE (SELECT coalesce(max(version), 0) FROM resources
			WHERE tenant = ?1 AND type = ?2 AND id = ?3) = ?4 - 1`

	// The search index (index.go).
	sqlIndexed = `SELECT c.rid, coalesce(t.tokens, X'') FROM current c LEFT JOIN current_tokens t ON t.rid = c.rid
		WHERE c.tenant = ? AND c.type = ? AND c.id = ?`
	sqlNewCurrent = `INSERT INTO current (tenant, type, id, version, last_updated, deleted)
		VALUES (?, ?, ?, ?, ?, ?)`
	sqlSetCurrent = `UPDATE current SET version = ?, last_updated = ?, deleted = ? WHERE rid = ?`
	sqlSetTokens  = `INSERT INTO current_tokens (rid, tokens) VALUES (?1, ?2)
		ON CONFLICT (rid) DO UPDATE SET tokens = ?2`
	sqlAddToken  = `INSERT OR IGNORE INTO search_tokens (token, rid) VALUES (?, ?)`
	sqlAddTokens = `INSERT OR IGNORE INTO search_tokens (token, rid) VALUES ` // + tokenChunk × "(?, ?)"
	sqlDropToken = `DELETE FROM search_tokens WHERE token = ? AND rid = ?`
)

// writerStmts are prepared on the single writer connection.
type writerStmts struct {
	current, insert, savepoint, rollbackTo, release                 *sql.Stmt
	indexed, newCurrent, setCurrent, setTokens, addToken, dropToken *sql.Stmt
	addTokens                                                       *sql.Stmt // tokenChunk rows
	nextLeaf, insertLeaf, journalPos, setJournalPos                 *sql.Stmt // audit ledger
}

// readerStmts are prepared on the reader pool.
type readerStmts struct {
	current, version *sql.Stmt
}

func prepare(ctx context.Context, db *sql.DB, dst map[**sql.Stmt]string) (err error) {
	for p, q := range dst {
		if *p, err = db.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite: prepare: %w", mapErr(err))
		}
	}
	return nil
}

func (s *writerStmts) prepare(ctx context.Context, db *sql.DB) error {
	return prepare(ctx, db, map[**sql.Stmt]string{
		&s.current:    sqlCurrent,
		&s.insert:     sqlInsert,
		&s.savepoint:  `SAVEPOINT w`,
		&s.rollbackTo: `ROLLBACK TO w`,
		&s.release:    `RELEASE w`,
		&s.indexed:    sqlIndexed,
		&s.newCurrent: sqlNewCurrent,
		&s.setCurrent: sqlSetCurrent,
		&s.setTokens:  sqlSetTokens,
		&s.addToken:   sqlAddToken,
		&s.addTokens:  sqlAddTokens + strings.Repeat("(?, ?), ", tokenChunk-1) + "(?, ?)",
		&s.dropToken:  sqlDropToken,
		// The audit ledger's appends.
		&s.nextLeaf:      sqlNextLeaf,
		&s.insertLeaf:    sqlInsertLeaf,
		&s.journalPos:    sqlJournalPos,
		&s.setJournalPos: sqlSetJournalPos,
	})
}

func (s *writerStmts) close() error {
	return closeStmts(s.current, s.insert, s.savepoint, s.rollbackTo, s.release,
		s.indexed, s.newCurrent, s.setCurrent, s.setTokens, s.addToken, s.dropToken, s.addTokens,
		s.nextLeaf, s.insertLeaf, s.journalPos, s.setJournalPos)
}

func (s *readerStmts) prepare(ctx context.Context, db *sql.DB) error {
	return prepare(ctx, db, map[**sql.Stmt]string{
		&s.current: sqlCurrent,
		&s.version: sqlVersion,
	})
}

func (s *readerStmts) close() error { return closeStmts(s.current, s.version) }

func closeStmts(stmts ...*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
