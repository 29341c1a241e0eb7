package query

import (
	"context"
	"errors"
	"runtime/trace"
	"sync"
)

// runWorkers runs fn(ctx, w) for w in [0, workers) at once, each with a context that is cancelled
// as soon as one of them fails, and returns the error that stopped them: the first that is not
// a cancellation, else the cancellation (the caller's context ended), else nil.
func runWorkers(ctx context.Context, workers int, fn func(ctx context.Context, w int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// In an execution trace the worker's time counts to its request's task.
			defer trace.StartRegion(ctx, "query worker").End()
			if errs[w] = fn(ctx, w); errs[w] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
