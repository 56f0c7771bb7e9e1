package clean

import (
	"sync"

	"github.com/chimed/chimed/schemas"
)

// asyncWriter feeds a PartWriter from its own goroutine, batchRows rows at
// a time, so encoding and compressing a source's clean Parquet overlaps
// with the goroutine that decides which rows to keep and with the other
// sources' writers. Near-dedup's pass 3 spent most of its time in the
// one goroutine that wrote every source's parts in turn. Rows reach the
// PartWriter in the order Write got them, so the files are the same bytes.
type asyncWriter[T any] struct {
	w    *schemas.PartWriter[T]
	buf  []T
	ch   chan []T
	done chan struct{}
	once sync.Once
	err  error // set by the goroutine; read after done closes or by failed
	mu   sync.Mutex
}

func newAsyncWriter[T any](w *schemas.PartWriter[T]) *asyncWriter[T] {
	a := &asyncWriter[T]{w: w, ch: make(chan []T, 4), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for rows := range a.ch {
			if a.failed() != nil {
				continue // drain, so Write never blocks on a writer that stopped
			}
			if err := w.Write(rows...); err != nil {
				a.mu.Lock()
				a.err = err
				a.mu.Unlock()
			}
		}
	}()
	return a
}

func (a *asyncWriter[T]) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write queues one row; an error is the first the PartWriter returned.
func (a *asyncWriter[T]) Write(row T) error {
	a.buf = append(a.buf, row)
	if len(a.buf) < batchRows {
		return nil
	}
	return a.send()
}

func (a *asyncWriter[T]) send() error {
	if err := a.failed(); err != nil {
		return err
	}
	a.ch <- a.buf
	a.buf = make([]T, 0, batchRows)
	return nil
}

// wait stops the goroutine once every queued row is written.
func (a *asyncWriter[T]) wait() error {
	a.once.Do(func() { close(a.ch) })
	<-a.done
	return a.err
}

// Close writes the queued rows and commits the last part.
func (a *asyncWriter[T]) Close() error {
	if len(a.buf) > 0 {
		if err := a.send(); err != nil {
			a.wait()
			return err
		}
	}
	if err := a.wait(); err != nil {
		return err
	}
	return a.w.Close()
}

// Abort stops the goroutine and drops the part being written.
func (a *asyncWriter[T]) Abort() {
	a.wait()
	a.w.Abort()
}
