package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"microcert/shared/domain"
)

// fill sets every field of the struct v points to (recursively, pointers
// allocated, slices and maps of one element) to a distinct non-zero value,
// so a field the item mapping forgets shows up in the round trip.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(*n) * time.Minute)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8:
		v.SetUint(uint64(*n % 256))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		fill(k, n)
		fill(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func filled[T any]() *T {
	var x T
	n := 0
	fill(reflect.ValueOf(&x).Elem(), &n)
	return &x
}

// through marshals an item struct and decodes it into a fresh one, as a
// write and a read do.
func through[T any](t *testing.T, it T) T {
	t.Helper()
	av, err := marshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	var back T
	if err := attributevalue.UnmarshalMap(av, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// Every field of every persisted domain type survives a write and a read.
func TestRoundTripEveryField(t *testing.T) {
	t.Run("enterprise", func(t *testing.T) {
		e := filled[domain.Enterprise]()
		if d := diff(*e, through(t, toEnterpriseItem(e)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("case", func(t *testing.T) {
		c := filled[domain.Case]()
		if d := diff(*c, through(t, toCaseItem(c)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("document", func(t *testing.T) {
		d := filled[domain.Document]()
		if df := diff(*d, through(t, toDocumentItem(d, nil)).domain()); df != "" {
			t.Errorf("(-want +got):\n%s", df)
		}
	})
	t.Run("certification", func(t *testing.T) {
		c := filled[domain.Certification]()
		if d := diff(*c, through(t, toCertificationItem(c, domain.DefaultRules)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("history", func(t *testing.T) {
		h := filled[domain.HistoryEntry]()
		it, err := toHistoryItem(domain.HistoryRecord{CaseID: "c", Entry: *h})
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(*h, through(t, it).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("notification", func(t *testing.T) {
		n := filled[domain.Notification]()
		if d := diff(*n, through(t, toNotificationItem(*n, true)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("delivery", func(t *testing.T) {
		d := filled[domain.Delivery]()
		if df := diff(*d, through(t, toDeliveryItem(d)).domain()); df != "" {
			t.Errorf("(-want +got):\n%s", df)
		}
	})
	t.Run("webhook endpoint", func(t *testing.T) {
		w := filled[domain.WebhookEndpoint]()
		if d := diff(*w, through(t, toEndpointItem(w)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("audit", func(t *testing.T) {
		a := filled[domain.AuditEntry]()
		if d := diff(*a, through(t, toAuditItem(*a)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("payout", func(t *testing.T) {
		p := filled[domain.Payout]()
		if d := diff(*p, through(t, toPayoutItem(*p)).domain()); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("ref", func(t *testing.T) {
		r := filled[domain.Ref]()
		it := through(t, toRefItem(*r))
		got := domain.Ref{Kind: domain.RefKind(it.Kind), ID: it.ID, CaseID: it.CaseID, ExpiresAt: it.ExpiresAt}
		if d := diff(*r, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("reminder mark", func(t *testing.T) {
		m := filled[domain.ReminderMark]()
		it := through(t, toReminderMarkItem(*m))
		got := domain.ReminderMark{EnterpriseID: it.EnterpriseID, Type: domain.CertType(it.Type), Cycle: it.Cycle,
			Milestone: it.Milestone, At: it.At}
		if d := diff(*m, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}

// Times are stored in UTC whatever the zone they come in.
func TestTimesStoredInUTC(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	c := sampleCase(&domain.Enterprise{ID: "e", OwnerID: "o"}, t0.In(shanghai))
	av, err := marshalItem(toCaseItem(c))
	if err != nil {
		t.Fatal(err)
	}
	if got := av["createdAt"].(*types.AttributeValueMemberS).Value; got != "2026-11-26T02:00:00Z" {
		t.Errorf("createdAt stored as %q", got)
	}
	if got := av["gsi1sk"].(*types.AttributeValueMemberS).Value; got[:31] != "2026-11-26T02:00:00.000000000Z#" {
		t.Errorf("gsi1sk %q", got)
	}
}
