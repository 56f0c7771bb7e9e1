package clean

import (
	"context"
	"sync"

	"github.com/chimed/chimed/schemas"
)

// cleanKinds runs every kind through cleanKind, in kind order, and hands
// each kind's last pass to the finisher.
func (r *run) cleanKinds(ctx context.Context, inputs map[schemas.Kind][]inputFile) error {
	// Each kind's last pass (which writes its rows) runs while the next
	// kinds' first passes read and decide: on the 1GB demo one source's
	// Parquet encoding left a core idle through most of that pass, and a
	// kind with no near-dedup (kg) passed so quickly that the kind after it
	// waited for the last pass before it. Last passes run one at a time,
	// in kind order (finisher), and a row of a source one of them writes
	// waits for it (see flight), so the files are the same bytes as when
	// kinds run one after another. A kind waiting for its last pass holds
	// its near-dedup result (nearResult: 24 bytes a row and the ids of rows
	// in pairs) and its staging file; its index is gone.
	fin := startFinisher(len(schemas.Kinds))
	defer fin.stop() // on an error below: the last pass running ends first, the waiting ones are dropped
	for _, k := range schemas.Kinds {
		var tail *kindTail
		var err error
		switch k {
		case schemas.KindText:
			tail, err = cleanKind[schemas.Text](ctx, r, k, inputs[k])
		case schemas.KindQA:
			tail, err = cleanKind[schemas.QA](ctx, r, k, inputs[k])
		case schemas.KindKG:
			tail, err = cleanKind[schemas.Triple](ctx, r, k, inputs[k])
		case schemas.KindDialogue:
			tail, err = cleanKind[schemas.Dialogue](ctx, r, k, inputs[k])
		case schemas.KindPreference:
			tail, err = cleanKind[schemas.PreferencePair](ctx, r, k, inputs[k])
		case schemas.KindExam:
			tail, err = cleanKind[schemas.ExamQuestion](ctx, r, k, inputs[k])
		}
		if err != nil {
			return err
		}
		f := &flight{sources: tail.sources, done: make(chan struct{})}
		if !fin.add(tail, f) {
			tail.abort()
			return fin.close()
		}
		r.flights = append(r.flights, f)
		if serialKinds {
			<-f.done
		}
	}
	return fin.close()
}

// serialKinds makes Run finish each kind before it starts the next; the
// tests compare the files of both ways (export_test.go).
var serialKinds bool

// kindTail is what is left of cleanKind once its rows are all decided:
// finish writes them (near-dedup's pass 3) and commits the kind's files;
// abort drops what is not committed, when finish is not to run or failed.
// sources are the sources of the kind's rows.
type kindTail struct {
	finish  func() error
	abort   func()
	sources map[string]bool
}

// flight is a kind's finish, handed to the finisher while later kinds run:
// done closes when it has returned or been dropped. A later kind's pass 1
// waits for it before its first row of one of sources, so no source's
// removed/ parts or counts are written by two kinds at once (in a
// chimed.yaml workspace a source holds one kind, and nothing waits).
type flight struct {
	sources map[string]bool
	done    chan struct{}
}

// waitFor waits until the finish of every earlier kind with rows of src
// has returned.
func (r *run) waitFor(src string) {
	for _, f := range r.flights {
		if f.sources[src] {
			<-f.done
		}
	}
}

// finisher runs kinds' finishes one at a time, in the order they are
// added, in a goroutine of its own. After the first error it drops (aborts)
// every finish still to run.
type finisher struct {
	queue  chan pendingFinish
	done   chan struct{} // closes when the goroutine returns
	closed sync.Once
	mu     sync.Mutex
	err    error
	halted bool // stop was called: drop what has not started
}

type pendingFinish struct {
	tail   *kindTail
	flight *flight
}

// startFinisher starts a finisher with room for n waiting kinds.
func startFinisher(n int) *finisher {
	f := &finisher{queue: make(chan pendingFinish, n), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		for p := range f.queue {
			if f.failed() {
				p.tail.abort()
			} else if err := p.tail.finish(); err != nil {
				p.tail.abort()
				f.mu.Lock()
				f.err = err // the first: every later finish is dropped
				f.mu.Unlock()
			}
			close(p.flight.done)
		}
	}()
	return f
}

// failed reports whether a finish failed or the finisher was stopped.
func (f *finisher) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err != nil || f.halted
}

// add hands a kind's finish to the finisher; false (the kind not taken)
// once a finish has failed.
func (f *finisher) add(t *kindTail, fl *flight) bool {
	if f.failed() {
		return false
	}
	f.queue <- pendingFinish{t, fl}
	return true
}

// close waits for every finish added and returns the first error.
func (f *finisher) close() error {
	f.closed.Do(func() { close(f.queue) })
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// stop, on Run's way out after an error, lets the finish running end and
// drops the ones waiting.
func (f *finisher) stop() {
	f.mu.Lock()
	f.halted = true
	f.mu.Unlock()
	f.close()
}
