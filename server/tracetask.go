package server

import (
	"net/http"
	"runtime/trace"
)

// Execution traces (runtime/trace, e.g. `authlake bench load --trace`) see each request as a
// task of type "http" whose handler runs in a region "request"; the route and the
// client-request-id are logged into the task when it is answered. A request's own p99 under
// load is then attributed goroutine by goroutine (running, waiting for a P, blocked, in a
// system call): go run ./bench/tracetasks TRACE. Nothing is made while no trace runs.

// traceTaskType is the task type of one HTTP request in an execution trace.
const traceTaskType = "http"

// traceRequest starts r's task when a trace is running; end logs route and client-request-id
// into it and ends it. r is returned unchanged otherwise.
func traceRequest(r *http.Request) (_ *http.Request, end func(route, clientID string)) {
	if !trace.IsEnabled() {
		return r, func(string, string) {}
	}
	ctx, task := trace.NewTask(r.Context(), traceTaskType)
	region := trace.StartRegion(ctx, "request")
	return r.WithContext(ctx), func(route, clientID string) {
		region.End()
		trace.Log(ctx, "route", route)
		if clientID != "" {
			trace.Log(ctx, "client-request-id", clientID)
		}
		task.End()
	}
}
