package clean

import "sync"

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
