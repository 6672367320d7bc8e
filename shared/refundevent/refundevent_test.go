package refundevent

import (
	"context"
	"encoding/json"
	"testing"

	"microcert/shared/domain"
)

type recorder struct{ events [][]byte }

func (r *recorder) InvokeAsync(_ context.Context, ev []byte) error {
	r.events = append(r.events, ev)
	return nil
}

func TestHandoffEventParses(t *testing.T) {
	var rec recorder
	r := domain.Refund{CaseID: domain.NewID(), ID: domain.NewID(), Round: 2}
	if err := (Handoff{Invoker: &rec}).HandOff(context.Background(), r); err != nil || len(rec.events) != 1 {
		t.Fatalf("HandOff: %v, %d events", err, len(rec.events))
	}
	ev, ok, err := Parse(rec.events[0])
	if !ok || err != nil || ev != (Event{CaseID: r.CaseID, RefundID: r.ID, Round: 2}) {
		t.Fatalf("Parse(%s) = %+v %v %v", rec.events[0], ev, ok, err)
	}
}

func TestParse(t *testing.T) {
	id, id2 := domain.NewID(), domain.NewID()
	event := func(m map[string]any) string { b, _ := json.Marshal(m); return string(b) }
	tests := []struct {
		name    string
		raw     string
		isEvent bool
		wantErr bool
	}{
		{"a schedule's event", `{"detail-type":"Scheduled Event","source":"aws.events","time":"2027-09-27T01:00:00Z","detail":{}}`, false, false},
		{"empty", `{}`, false, false},
		{"not an object", `[1]`, false, false},
		{"a refund", event(map[string]any{"caseId": id, "refundId": id2, "round": 1}), true, false},
		{"no case", event(map[string]any{"refundId": id2, "round": 1}), true, true},
		{"no refund", event(map[string]any{"caseId": id, "round": 1}), true, true},
		{"not an id", event(map[string]any{"caseId": id, "refundId": "../x", "round": 1}), true, true},
		{"no round", event(map[string]any{"caseId": id, "refundId": id2}), true, true},
		{"round 0", event(map[string]any{"caseId": id, "refundId": id2, "round": 0}), true, true},
		{"unknown field", event(map[string]any{"caseId": id, "refundId": id2, "round": 1, "amountFen": 5}), true, true},
		{"round not a number", event(map[string]any{"caseId": id, "refundId": id2, "round": "1"}), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok, err := Parse([]byte(tt.raw))
			if ok != tt.isEvent || (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%s): event %v, err %v; want event %v, error %v", tt.raw, ok, err, tt.isEvent, tt.wantErr)
			}
		})
	}
}
