package baton

import (
	"context"
	"time"

	"baton.dev/baton/batonv1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// HistoryOptions select a page of a run's history.
type HistoryOptions struct {
	// PageSize is the most events to return (server default 100, at most 1000).
	PageSize int32
	// PageToken continues from a previous page's NextPageToken; empty for the first page.
	PageToken string
	// Wait, when the page would be empty, waits up to this long for new events (bounded by ctx).
	Wait time.Duration
}

// HistoryPage is one page of a run's history.
type HistoryPage struct {
	// Events in order of event id.
	Events []*batonv1.HistoryEvent
	// NextPageToken continues after these events; empty when the run is closed and every event
	// was returned.
	NextPageToken string
}

// History returns one page of the run's history.
//
//	for token := ""; ; {
//		page, err := run.History(ctx, baton.HistoryOptions{PageToken: token})
//		if err != nil { ... }
//		for _, e := range page.Events { fmt.Println(e.EventId, e.Type) }
//		if token = page.NextPageToken; token == "" { break }
//	}
func (r *WorkflowRun) History(ctx context.Context, opts HistoryOptions) (*HistoryPage, error) {
	request := &batonv1.GetHistoryRequest{
		WorkflowId: r.id, RunId: r.runID, PageSize: opts.PageSize, PageToken: opts.PageToken,
	}
	if opts.Wait > 0 {
		request.Wait = durationpb.New(opts.Wait)
	}
	response, err := r.client.workflows.GetHistory(ctx, request)
	if err != nil {
		return nil, WrapRPCError("GetHistory", err)
	}
	return &HistoryPage{Events: response.GetEvents(), NextPageToken: response.GetNextPageToken()}, nil
}

// HistoryEvents reads every event recorded so far, page by page: the whole history of a closed
// run, or what an open run has recorded until now.
func (r *WorkflowRun) HistoryEvents(ctx context.Context) ([]*batonv1.HistoryEvent, error) {
	var events []*batonv1.HistoryEvent
	token := ""
	for {
		page, err := r.History(ctx, HistoryOptions{PageToken: token, PageSize: 1000})
		if err != nil {
			return events, err
		}
		events = append(events, page.Events...)
		if page.NextPageToken == "" || len(page.Events) == 0 {
			return events, nil
		}
		token = page.NextPageToken
	}
}
