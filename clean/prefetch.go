package clean

import (
	"iter"
	"sync"
)

// prefetch reads seq in its own goroutine, a few batches of rows ahead, so
// decoding a Parquet file overlaps with what the caller does with the rows
// already read (near-dedup's pass 3 compresses clean parts while the next
// staged rows decode). Rows come out in seq's order; stopping early stops
// the reader and waits for it.
func prefetch[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		type chunk struct {
			rows []T
			err  error
		}
		ch := make(chan chunk, 4)
		done := make(chan struct{})
		defer func() {
			close(done)
			for range ch { // wait for the reader to stop
			}
		}()
		go func() {
			defer close(ch)
			send := func(c chunk) bool {
				select {
				case ch <- c:
					return true
				case <-done:
					return false
				}
			}
			var rows []T
			for row, err := range seq {
				if err != nil {
					send(chunk{err: err})
					return
				}
				rows = append(rows, row)
				if len(rows) == batchRows {
					if !send(chunk{rows: rows}) {
						return
					}
					rows = nil
				}
			}
			if len(rows) > 0 {
				send(chunk{rows: rows})
			}
		}()
		for c := range ch {
			if c.err != nil {
				var zero T
				yield(zero, c.err)
				return
			}
			for _, row := range c.rows {
				if !yield(row, nil) {
					return
				}
			}
		}
	}
}

// mapOrdered reads batches from next in one goroutine, runs work on each
// in workers goroutines and hands them to sink in the order next made
// them. At most 2×workers batches are in flight. next returns nil when
// there are no more batches; the first error of next or sink stops it.
func mapOrdered[B any](workers int, next func() (*B, error), work func(*B), sink func(*B) error) error {
	type job struct {
		b    *B
		done chan struct{}
	}
	jobs := make(chan job, workers)
	inOrder := make(chan job, 2*workers)
	stop := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		defer close(jobs)
		defer close(inOrder)
		for {
			b, err := next()
			if err != nil || b == nil {
				readErr = err
				return
			}
			j := job{b: b, done: make(chan struct{})}
			select {
			case inOrder <- j:
			case <-stop:
				return
			}
			select {
			case jobs <- j:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				work(j.b)
				close(j.done)
			}
		}()
	}
	var err error
	for j := range inOrder {
		<-j.done
		if err = sink(j.b); err != nil {
			break
		}
	}
	close(stop)
	for range inOrder { // let the reader finish
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return readErr
}
