package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/audit"
)

// Source reads the ledger's events (the app adapts the ledger store).
type Source interface {
	// Events calls fn for every stored event with index >= from, in
	// index order; an error from fn stops the scan and is returned.
	Events(ctx context.Context, from uint64, fn func(index uint64, e audit.Event) error) error
}

// Store keeps raised alerts and how far the Watcher has read.
type Store interface {
	// AlertCursor is the index of the next event to examine (0 at first).
	AlertCursor(ctx context.Context) (uint64, error)
	// SaveAlerts stores the alerts whose keys are new and moves the
	// cursor forward to next (never back), in one transaction; it returns
	// the alerts it stored, with their ids.
	SaveAlerts(ctx context.Context, alerts []Alert, next uint64) ([]Alert, error)
	// Unnotified lists stored alerts not yet delivered, oldest first.
	Unnotified(ctx context.Context, limit int) ([]Alert, error)
	// MarkNotified records that the alert was delivered.
	MarkNotified(ctx context.Context, id int64) error
}

// Notifier delivers an alert to people (a webhook, e-mail). It receives
// only the alert, which holds no PHI.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// Watcher examines the ledger's new events, stores the alerts they
// raise, records each alert in the ledger itself and notifies.
type Watcher struct {
	src      Source
	store    Store
	det      *Detector
	rec      audit.Recorder
	notifier Notifier
	log      *slog.Logger
	now      func() time.Time
	warm     bool // state rebuilt from recent events after a start
}

// WatcherOptions are a Watcher's optional parts.
type WatcherOptions struct {
	Notifier Notifier // nil: alerts are stored and logged only
	Log      *slog.Logger
	Now      func() time.Time
}

// NewWatcher returns a Watcher; rec records alerts in the audit trail.
func NewWatcher(src Source, st Store, det *Detector, rec audit.Recorder, opts WatcherOptions) *Watcher {
	w := &Watcher{src: src, store: st, det: det, rec: rec, notifier: opts.Notifier, log: opts.Log, now: opts.Now}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}

// batchSize is how many events one Poll examines before it saves.
const batchSize = 10_000

var errBatchFull = errors.New("batch full")

// Poll examines the events recorded since the last Poll (up to
// batchSize), stores and records the alerts they raise, and delivers
// undelivered alerts. It returns how many alerts it raised.
func (w *Watcher) Poll(ctx context.Context) (int, error) {
	cursor, err := w.store.AlertCursor(ctx)
	if err != nil {
		return 0, fmt.Errorf("alert: cursor: %w", err)
	}
	if !w.warm {
		if err := w.rewarm(ctx, cursor); err != nil {
			return 0, err
		}
		w.warm = true
	}
	var raised []Alert
	next, seen := cursor, 0
	err = w.src.Events(ctx, cursor, func(index uint64, e audit.Event) error {
		if seen == batchSize {
			return errBatchFull
		}
		seen++
		as, err := w.det.Observe(ctx, index, e, true)
		if err != nil {
			return err
		}
		raised = append(raised, as...)
		next = index + 1
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		w.warm = false // the detector saw events that were not saved
		return 0, fmt.Errorf("alert: read events: %w", err)
	}
	if next == cursor {
		return 0, w.deliver(ctx)
	}
	stored, err := w.store.SaveAlerts(ctx, raised, next)
	if err != nil {
		w.warm = false
		return 0, fmt.Errorf("alert: save: %w", err)
	}
	if err := w.record(ctx, stored); err != nil {
		return len(stored), err
	}
	return len(stored), w.deliver(ctx)
}

// Raise stores, records and delivers an alert raised outside the event
// stream (a failed verification).
func (w *Watcher) Raise(ctx context.Context, a Alert) error {
	if a.Time.IsZero() {
		a.Time = w.now().UTC()
	}
	// The cursor only moves forward: 0 leaves it where it is.
	stored, err := w.store.SaveAlerts(ctx, []Alert{a}, 0)
	if err != nil {
		return fmt.Errorf("alert: save: %w", err)
	}
	if err := w.record(ctx, stored); err != nil {
		return err
	}
	return w.deliver(ctx)
}

// Run polls every interval until ctx ends, logging failures.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := w.Poll(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("audit alerts: poll failed", "err", err.Error())
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// record appends an audit event for each new alert, so alerts are part
// of the tamper-evident trail. The Detector ignores these events.
func (w *Watcher) record(ctx context.Context, alerts []Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	evs := make([]audit.Event, len(alerts))
	for i, a := range alerts {
		w.log.Warn("audit alert", "alert", a.ID, "rule", a.Rule, "severity", a.Severity, "tenant", a.Tenant)
		evs[i] = audit.Event{
			Time: w.now().UTC(), Tenant: a.Tenant, ActorID: "ward", ActorKind: "system",
			Action: audit.ActionExecute, Subtype: SubtypeAlert, EntityType: "AuditAlert", EntityID: strconv.FormatInt(a.ID, 10),
			Query: a.Rule, Outcome: 201, EntryPoint: "system",
		}
	}
	if err := w.rec.Record(ctx, evs); err != nil {
		return fmt.Errorf("alert: record: %w", err)
	}
	return nil
}

// deliver sends stored alerts not yet delivered; a failure leaves them
// for the next Poll.
func (w *Watcher) deliver(ctx context.Context) error {
	if w.notifier == nil {
		return nil
	}
	pending, err := w.store.Unnotified(ctx, 100)
	if err != nil {
		return fmt.Errorf("alert: pending: %w", err)
	}
	for _, a := range pending {
		if err := w.notifier.Notify(ctx, a); err != nil {
			w.log.Error("audit alert: notification failed; will retry", "alert", a.ID, "rule", a.Rule, "err", err.Error())
			return nil
		}
		if err := w.store.MarkNotified(ctx, a.ID); err != nil {
			return fmt.Errorf("alert: mark notified: %w", err)
		}
	}
	return nil
}

// rewarm replays the events of the last window before cursor into the
// Detector without raising, so a restart does not forget (say) the reads
// of the last hour. It steps back exponentially until it finds an event
// older than the window.
func (w *Watcher) rewarm(ctx context.Context, cursor uint64) error {
	*w.det = *NewDetector(w.det.cfg, w.det.networks, w.det.surnames)
	if cursor == 0 {
		return nil
	}
	last, ok, err := w.eventAt(ctx, cursor-1)
	if err != nil || !ok {
		return err
	}
	cut := last.Add(-w.det.cfg.window())
	start, step := cursor-1, uint64(1024)
	for start > 0 {
		s := start - min(step, start)
		t, ok, err := w.eventAt(ctx, s)
		if err != nil {
			return err
		}
		if !ok {
			break // pruned below s
		}
		start, step = s, step*2
		if t.Before(cut) {
			break
		}
	}
	err = w.src.Events(ctx, start, func(index uint64, e audit.Event) error {
		if index >= cursor {
			return errBatchFull
		}
		_, err := w.det.Observe(ctx, index, e, false)
		return err
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return fmt.Errorf("alert: replay recent events: %w", err)
	}
	return nil
}

// eventAt returns the time of the event at index, if it is stored.
func (w *Watcher) eventAt(ctx context.Context, index uint64) (time.Time, bool, error) {
	var t time.Time
	found := false
	err := w.src.Events(ctx, index, func(i uint64, e audit.Event) error {
		found = i == index
		t = e.Time
		return errBatchFull
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return time.Time{}, false, err
	}
	return t, found, nil
}
