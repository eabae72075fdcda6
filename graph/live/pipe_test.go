package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/auth"
)

// fakeTable returns the rows of ids above the lowest reader's cursor, all to every reader.
func fakeTable(ids []uuid.UUID) Table[uuid.UUID] {
	return Table[uuid.UUID]{
		Read: func(_ context.Context, r Read) (Page[uuid.UUID], error) {
			var p Page[uuid.UUID]
			for _, id := range ids {
				if bytesLess(r.Low, id) && len(p.Rows) < r.Rows {
					row := Row[uuid.UUID]{Node: id, Rank: len(p.Rows) + 1}
					for _, rd := range r.Readers {
						row.To = append(row.To, rd.Sub)
					}
					p.Rows = append(p.Rows, row)
				}
			}
			p.Scanned = len(p.Rows)
			return p, nil
		},
		ID: func(id uuid.UUID) uuid.UUID { return id },
	}
}

// TestPipe hands a wake-up's rows to a reader that takes them one by one, later: all of
// them, in order, then, past the buffer, the final error and the channel's close; and a
// cancelled context closes the channel of an idle subscription.
func TestPipe(t *testing.T) {
	ids := make([]uuid.UUID, 20)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	hub := NewHub(Options{Poll: -1, Buffer: 30, Batch: 10})
	feed := NewFeed(hub, fakeTable(ids))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := auth.Viewer{UserID: uuid.New(), Role: auth.RoleAdmin}
	st, err := feed.Subscribe(v, &uuid.Nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ch := Pipe(ctx, st, func(d *Delivery[uuid.UUID]) *Delivery[uuid.UUID] { return d })
	for feed.Tick(ctx) {
	}
	for i, want := range ids {
		select {
		case d := <-ch:
			if d.Err != nil || d.Cursor != want {
				t.Fatalf("delivery %d: got %v %v, want %v", i, d.Cursor, d.Err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("delivery %d never came", i)
		}
	}

	// A reader that never reads: the buffer fills, then the final error, then the close.
	slow, err := feed.Subscribe(v, &uuid.Nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	slowCh := Pipe(ctx, slow, func(d *Delivery[uuid.UUID]) *Delivery[uuid.UUID] { return d })
	feed.Tick(ctx)
	feed.Tick(ctx)
	hub.opts.Buffer = 5 // below what the next wake-up brings
	more := append([]uuid.UUID(nil), ids...)
	for range 10 {
		more = append(more, uuid.Must(uuid.NewV7()))
	}
	feed.table = fakeTable(more)
	feed.Tick(ctx)
	var last *Delivery[uuid.UUID]
	n := 0
	for d := range slowCh {
		last = d
		n++
	}
	if last == nil || !errors.Is(last.Err, ErrSlowConsumer) || !last.Final {
		t.Fatalf("after %d deliveries the stream ended with %+v, want ErrSlowConsumer", n, last)
	}

	idle, err := feed.Subscribe(v, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	idleCtx, stop := context.WithCancel(ctx)
	idleCh := Pipe(idleCtx, idle, func(d *Delivery[uuid.UUID]) *Delivery[uuid.UUID] { return d })
	stop()
	select {
	case _, ok := <-idleCh:
		if ok {
			t.Fatal("an idle subscription delivered after its context ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the channel stayed open after the context ended")
	}
}

// TestAdminsAreTheirOwnReader: an admin and a viewer of the nil id at one cursor are two
// readers of the statement, the viewer's limited to its own rows, whoever subscribed first.
func TestAdminsAreTheirOwnReader(t *testing.T) {
	for _, adminFirst := range []bool{true, false} {
		var readers []Reader
		table := Table[uuid.UUID]{
			Read: func(_ context.Context, r Read) (Page[uuid.UUID], error) {
				readers = r.Readers
				return Page[uuid.UUID]{}, nil
			},
			ID: func(id uuid.UUID) uuid.UUID { return id },
		}
		feed := NewFeed(NewHub(Options{Poll: -1, Buffer: 30, Batch: 10}), table)
		viewers := []auth.Viewer{{UserID: uuid.New(), Role: auth.RoleAdmin}, {}}
		if !adminFirst {
			viewers[0], viewers[1] = viewers[1], viewers[0]
		}
		for _, v := range viewers {
			if _, err := feed.Subscribe(v, &uuid.Nil, nil, ""); err != nil {
				t.Fatal(err)
			}
		}
		feed.Tick(context.Background())
		if len(readers) != 2 {
			t.Fatalf("admin first %v: %d readers, want 2: %+v", adminFirst, len(readers), readers)
		}
		limited := 0
		for _, r := range readers {
			if r.Viewer != nil && *r.Viewer == uuid.Nil {
				limited++
			}
		}
		if limited != 1 {
			t.Errorf("admin first %v: readers %+v, want one limited to the nil id's rows", adminFirst, readers)
		}
	}
}
