package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"microcert/shared/domain"
	"microcert/shared/httpapi"
)

// The object-level authorization sweep: every route that names an object
// (and the two that name an enterprise in their body or none), called by
// every role there is, each with the status it must get. Roles: the five
// member roles of the enterprise, a member who was removed, another
// tenant, a reviewer and a platform admin. A refused call (403, 404)
// changes nothing and hands out no presigned URL; an allowed one gets past
// authorization (its 409 or 422 is a business answer, never an access one).

type sweepRole string

const (
	asOwner     sweepRole = "owner"
	asAdmin     sweepRole = "admin"
	asOperator  sweepRole = "operator"
	asViewer    sweepRole = "viewer"
	asAgent     sweepRole = "agent"
	asRemoved   sweepRole = "removed member"
	asOutsider  sweepRole = "other tenant"
	asReviewer  sweepRole = "reviewer"
	asPlatAdmin sweepRole = "platform admin"
)

var sweepRoles = []sweepRole{asOwner, asAdmin, asOperator, asViewer, asAgent, asRemoved, asOutsider, asReviewer, asPlatAdmin}

// expect maps each role to the statuses it may get ("200|409"); "403" and
// "404" are refusals.
type expect map[sweepRole]string

func (e expect) with(over expect) expect {
	out := expect{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// readers: every member and staff read; the removed member and another
// tenant see nothing.
var readers = expect{asOwner: "200", asAdmin: "200", asOperator: "200", asViewer: "200", asAgent: "200",
	asRemoved: "404", asOutsider: "404", asReviewer: "200", asPlatAdmin: "200"}

// preparers: owner, admin and operator work on cases (the agent only on its
// own); staff who are not members are forbidden.
func preparers(ok string) expect {
	return expect{asOwner: ok, asAdmin: ok, asOperator: ok, asViewer: "403", asAgent: "403",
		asRemoved: "404", asOutsider: "404", asReviewer: "403", asPlatAdmin: "403"}
}

// managers: owner and admin manage people and certifications.
func managers(ok string) expect {
	return preparers(ok).with(expect{asOperator: "403"})
}

// membersOnly: a member's own things (staff are not members).
func membersOnly(ok string) expect {
	return readers.with(expect{asOwner: ok, asAdmin: ok, asOperator: ok, asViewer: ok, asAgent: ok, asReviewer: "404", asPlatAdmin: "404"})
}

// staffOnly: the review routes (the route table refuses applicants first).
func staffOnly(ok string) expect {
	return expect{asOwner: "403", asAdmin: "403", asOperator: "403", asViewer: "403", asAgent: "403",
		asRemoved: "403", asOutsider: "403", asReviewer: ok, asPlatAdmin: ok}
}

// adminsOnly: the platform's money routes (admins only).
func adminsOnly(ok string) expect {
	return staffOnly(ok).with(expect{asReviewer: "403"})
}

// accessCodes are the codes of a refusal; an allowed call never gets one.
var accessCodes = []string{"not_found", "forbidden", "insufficient_role", "not_case_agent", "agent_cannot_verify", "own_case"}

// sweepFixture is one enterprise with a member of every role, a case of
// the enterprise with a checked document, a case prepared by the agent,
// an active certification, and the other callers.
type sweepFixture struct {
	apps        map[sweepRole]*app
	entID       string
	caseID      string
	agentCaseID string
	docID       string
	targetUser  string // a viewer whose role the managers set
	// endpointID is a webhook endpoint of the enterprise; deadDelivery a
	// delivery to it that gave up (to redeliver).
	endpointID   string
	deadDelivery string
}

// newestNotification is the id of the enterprise's newest notification.
func (f *sweepFixture) newestNotification(t *testing.T) string {
	ns := f.apps[asOwner].notifications(f.entID)
	if len(ns) == 0 {
		t.Fatal("the fixture has no notification")
	}
	return ns[0]["id"].(string)
}

func newSweepFixture(t *testing.T) *sweepFixture {
	t.Helper()
	f := &sweepFixture{apps: map[sweepRole]*app{}}
	for _, r := range sweepRoles {
		group := "applicant"
		switch r {
		case asReviewer:
			group = "reviewer"
		case asPlatAdmin:
			group = "admin"
		}
		f.apps[r] = newApp(t, group, "")
	}
	owner := f.apps[asOwner]
	ent := owner.createEnterprise(nil)
	f.entID = ent["id"].(string)
	owner.invite(f.entID, "admin", f.apps[asAdmin])
	owner.invite(f.entID, "operator", f.apps[asOperator])
	owner.invite(f.entID, "viewer", f.apps[asViewer])
	owner.invite(f.entID, "agent", f.apps[asAgent])
	owner.invite(f.entID, "viewer", f.apps[asRemoved])
	owner.must(204, "DELETE", "/v1/enterprises/"+f.entID+"/members/"+f.apps[asRemoved].user, nil)
	target := newApp(t, "applicant", "")
	owner.invite(f.entID, "viewer", target)
	f.targetUser = target.user
	f.apps[asOutsider].createEnterprise(nil)

	f.caseID = owner.openCase(f.entID, "initial", "wecom", "official_account")["id"].(string)
	f.docID = owner.upload(f.caseID, "business_license", "image/jpeg", uniqueScan())["id"].(string)
	f.agentCaseID = f.apps[asAgent].must(201, "POST", "/v1/cases", map[string]any{"enterpriseId": f.entID, "kind": "initial",
		"types": []string{"mini_program"}, "viaAgent": true}).obj(t)["id"].(string)

	// A webhook endpoint with a delivery that gave up.
	ep := owner.must(201, "POST", "/v1/enterprises/"+f.entID+"/webhook-endpoints",
		map[string]any{"url": "http://127.0.0.1:9/hook", "eventTypes": []string{"*"}}).obj(t)
	f.endpointID = ep["id"].(string)
	at := time.Now().UTC()
	noteID := domain.NewIDAt(at)
	dead := domain.Delivery{ID: domain.DeliveryID(noteID, domain.ChannelWebhook, f.endpointID), NotificationID: noteID, EnterpriseID: f.entID,
		Channel: domain.ChannelWebhook, Recipient: f.endpointID, Kind: domain.NoticeCaseSubmitted, Event: domain.EventCaseUpdated,
		Payload: []byte(`{}`), Status: domain.DeliveryDead, Attempts: 15, CreatedAt: at, UpdatedAt: at, Version: 3}
	if err := seedStore().Commit(context.Background(), &domain.Change{Deliveries: []domain.DeliveryWrite{{Delivery: &dead, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	f.deadDelivery = dead.ID

	// An active certification to cancel and revoke (approving one through
	// review would open a case of its own).
	now := time.Now().UTC()
	cert := &domain.Certification{EnterpriseID: f.entID, Type: domain.CertWeCom, Status: domain.CertActive, IssuedAt: now,
		ExpiresAt: now.AddDate(1, 0, 0), CaseID: domain.NewID(), Version: 1, Cycle: 1, UpdatedAt: now}
	if err := seedStore().Commit(context.Background(), &domain.Change{Certifications: []domain.CertificationWrite{{Certification: cert, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// snapshot is what a refused call must leave unchanged.
func (f *sweepFixture) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := seedStore()
	st, err := db.GetEnterpriseState(ctx, f.entID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.GetCase(ctx, f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	ac, err := db.GetCase(ctx, f.agentCaseID)
	if err != nil {
		t.Fatal(err)
	}
	audits, err := db.ListAudit(ctx, f.caseID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "enterprise v%d case v%d agent case v%d audits %d;", st.Enterprise.Version, c.Version, ac.Version, len(audits))
	for _, m := range st.Members {
		fmt.Fprintf(&b, " %s:%s:v%d", m.UserID, m.Role, m.Version)
	}
	for _, i := range st.Invitations {
		fmt.Fprintf(&b, " inv %s:%s:v%d", i.ID, i.Status, i.Version)
	}
	for _, x := range st.Certifications {
		fmt.Fprintf(&b, " cert %s:%s:v%d", x.Type, x.Status, x.Version)
	}
	return b.String()
}

// sweepRow is one route with how to call it as each role.
type sweepRow struct {
	route string // the router's key
	path  func(r sweepRole) string
	body  any
	want  expect
}

func (f *sweepFixture) rows(t *testing.T) []sweepRow {
	ent := "/v1/enterprises/" + f.entID
	cs := "/v1/cases/" + f.caseID
	fixed := func(p string) func(sweepRole) string { return func(sweepRole) string { return p } }
	owner := f.apps[asOwner]
	// freshMember: a member for this call to remove.
	freshMember := func(sweepRole) string {
		m := newApp(t, "applicant", "")
		owner.invite(f.entID, "viewer", m)
		return ent + "/members/" + m.user
	}
	// freshInvitation: a pending invitation for this call to revoke.
	freshInvitation := func(sweepRole) string {
		inv := owner.must(201, "POST", ent+"/invitations", map[string]any{"role": "viewer"}).obj(t)
		return ent + "/invitations/" + inv["id"].(string)
	}
	return []sweepRow{
		{"GET /v1/enterprises/{enterpriseId}", fixed(ent), nil, readers},
		{"PATCH /v1/enterprises/{enterpriseId}", fixed(ent), map[string]any{"regionCode": "440300"}, preparers("200")},
		{"GET /v1/enterprises/{enterpriseId}/cases", fixed(ent + "/cases"), nil, readers},
		{"GET /v1/enterprises/{enterpriseId}/notifications", fixed(ent + "/notifications"), nil, readers},
		{"GET /v1/enterprises/{enterpriseId}/history", fixed(ent + "/history"), nil, readers},
		{"GET /v1/enterprises/{enterpriseId}/members", fixed(ent + "/members"), nil, readers},
		{"PATCH /v1/enterprises/{enterpriseId}/members/{userId}", fixed(ent + "/members/" + f.targetUser), map[string]any{"role": "viewer"}, managers("200")},
		{"DELETE /v1/enterprises/{enterpriseId}/members/{userId}", freshMember, nil, managers("204")},
		{"POST /v1/enterprises/{enterpriseId}/ownership", fixed(ent + "/ownership"), map[string]any{"userId": "nobody-" + f.entID},
			managers("403").with(expect{asOwner: "422"})},
		{"POST /v1/enterprises/{enterpriseId}/invitations", fixed(ent + "/invitations"), map[string]any{"role": "viewer"}, managers("201")},
		{"GET /v1/enterprises/{enterpriseId}/invitations", fixed(ent + "/invitations"), nil, managers("200")},
		{"DELETE /v1/enterprises/{enterpriseId}/invitations/{invitationId}", freshInvitation, nil, managers("200")},
		{"POST /v1/enterprises/{enterpriseId}/certifications/{type}/cancel", fixed(ent + "/certifications/wecom/cancel"), nil, managers("200|409")},
		{"POST /v1/enterprises/{enterpriseId}/certifications/{type}/revoke", fixed(ent + "/certifications/wecom/revoke"),
			map[string]any{"reason": "违规", "severity": "minor"}, staffOnly("200|409").with(expect{asReviewer: "403"})},
		// The case's types are taken by the agent's case: owners, admins and
		// operators are answered case_already_open; the agent must open via
		// itself.
		{"POST /v1/cases", fixed("/v1/cases"), map[string]any{"enterpriseId": f.entID, "kind": "initial", "types": []string{"mini_program"}},
			preparers("409").with(expect{asAgent: "422"})},
		{"GET /v1/cases/{caseId}", fixed(cs), nil, readers},
		{"POST /v1/cases/{caseId}/documents", fixed(cs + "/documents"), map[string]any{"docType": "legal_rep_id_front", "contentType": "image/jpeg", "contentLength": 1000}, preparers("201")},
		{"GET /v1/cases/{caseId}/documents", fixed(cs + "/documents"), nil, readers},
		{"POST /v1/cases/{caseId}/face-verification", fixed(cs + "/face-verification"), nil, preparers("201")},
		{"POST /v1/cases/{caseId}/qr-verification", fixed(cs + "/qr-verification"), nil, preparers("409")},
		{"POST /v1/cases/{caseId}/explanation", fixed(cs + "/explanation"), map[string]any{"text": "说明"}, preparers("200")},
		{"POST /v1/cases/{caseId}/explanation", fixed("/v1/cases/" + f.agentCaseID + "/explanation"), map[string]any{"text": "代办说明"},
			preparers("200").with(expect{asAgent: "200"})},
		{"POST /v1/cases/{caseId}/bank-verification", fixed(cs + "/bank-verification"),
			map[string]any{"bankName": "招商银行", "accountName": "深圳市微认证科技有限公司", "accountNumber": "6222020200112233"}, preparers("201|409")},
		{"POST /v1/cases/{caseId}/bank-verification/confirm", fixed(cs + "/bank-verification/confirm"), map[string]any{"amountFen": 37}, preparers("200|409|422")},
		{"POST /v1/cases/{caseId}/payment", fixed(cs + "/payment"), nil, preparers("201")},
		{"POST /v1/cases/{caseId}/submit", fixed(cs + "/submit"), nil, preparers("409")},
		{"GET /v1/documents/{documentId}/download", fixed("/v1/documents/" + f.docID + "/download"), nil, readers},
		{"GET /v1/review/queue", fixed("/v1/review/queue"), nil, staffOnly("200")},
		{"POST /v1/cases/{caseId}/claim", fixed(cs + "/claim"), nil, staffOnly("409")},
		{"POST /v1/cases/{caseId}/decision", fixed(cs + "/decision"), map[string]any{"decision": "approve", "version": 1}, staffOnly("409")},
		// The case is not claimed: staff get past authorization to claim_required.
		{"POST /v1/review/cases/{caseId}/reveal", fixed("/v1/review/cases/" + f.caseID + "/reveal"), nil, staffOnly("409")},
		// Money: the applicants and the reviewer are refused before the
		// object is looked up; for an admin the object does not exist.
		{"POST /v1/admin/refunds/{refundId}/retry", fixed("/v1/admin/refunds/" + domain.NewID() + "/retry"), nil, adminsOnly("404")},
		{"POST /v1/admin/discrepancies/{discrepancyId}/resolve", fixed("/v1/admin/discrepancies/" + domain.NewID() + "/resolve"),
			map[string]any{"note": "已核对"}, adminsOnly("404")},
		// Notifications: read state and settings are every member's own;
		// webhook endpoints are the managers'.
		{"POST /v1/enterprises/{enterpriseId}/notifications/{notificationId}/read", fixed(ent + "/notifications/" + f.newestNotification(t) + "/read"), nil, readers},
		{"GET /v1/enterprises/{enterpriseId}/notification-settings", fixed(ent + "/notification-settings"), nil, membersOnly("200")},
		{"PUT /v1/enterprises/{enterpriseId}/notification-settings", fixed(ent + "/notification-settings"),
			map[string]any{"wechat": map[string]any{"enabled": false}, "sms": map[string]any{"enabled": false}}, membersOnly("200")},
		{"POST /v1/enterprises/{enterpriseId}/webhook-endpoints", fixed(ent + "/webhook-endpoints"),
			map[string]any{"url": "http://127.0.0.1:9/hook", "eventTypes": []string{"*"}}, managers("201")},
		{"GET /v1/enterprises/{enterpriseId}/webhook-endpoints", fixed(ent + "/webhook-endpoints"), nil, managers("200")},
		{"PATCH /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", fixed(ent + "/webhook-endpoints/" + f.endpointID), map[string]any{"enabled": true}, managers("200")},
		{"POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/rotate-secret", fixed(ent + "/webhook-endpoints/" + f.endpointID + "/rotate-secret"), nil, managers("200")},
		{"GET /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries", fixed(ent + "/webhook-endpoints/" + f.endpointID + "/deliveries"), nil, managers("200")},
		// The first manager redelivers; for the second it is pending again.
		{"POST /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver",
			fixed(ent + "/webhook-endpoints/" + f.endpointID + "/deliveries/" + f.deadDelivery + "/redeliver"), nil, managers("202|409")},
		// Refused roles aim at the fixture's endpoint (nothing changes);
		// the managers each delete one of their own (at most 10 exist).
		{"DELETE /v1/enterprises/{enterpriseId}/webhook-endpoints/{endpointId}", func(r sweepRole) string {
			if r != asOwner && r != asAdmin {
				return ent + "/webhook-endpoints/" + f.endpointID
			}
			ep := owner.must(201, "POST", ent+"/webhook-endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "eventTypes": []string{"*"}}).obj(t)
			return ent + "/webhook-endpoints/" + ep["id"].(string)
		}, nil, managers("204")},
		// Last: it closes the case.
		{"POST /v1/cases/{caseId}/withdraw", fixed(cs + "/withdraw"), nil, preparers("200")},
	}
}

func refusal(want string) bool { return want == "403" || want == "404" }

// TestBOLASweep is the route x role table.
func TestBOLASweep(t *testing.T) {
	onShared(t)
	f := newSweepFixture(t)
	rows := f.rows(t)
	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.route] = true
		method, _, _ := strings.Cut(row.route, " ")
		// Refusals first: they must leave the fixture as it is for the
		// allowed calls after them.
		roles := append([]sweepRole(nil), sweepRoles...)
		sort.SliceStable(roles, func(i, j int) bool { return refusal(row.want[roles[i]]) && !refusal(row.want[roles[j]]) })
		for _, role := range roles {
			want := row.want[role]
			t.Run(row.route+"/"+string(role), func(t *testing.T) {
				if want == "" {
					t.Fatal("no expectation for this role")
				}
				path := row.path(role)
				var before string
				if refusal(want) {
					before = f.snapshot(t)
				}
				r := f.apps[role].do(method, path, row.body)
				if !strings.Contains("|"+want+"|", fmt.Sprintf("|%d|", r.Status)) {
					t.Fatalf("%s %s as %s: %d, want %s: %s", method, path, role, r.Status, want, r.Body)
				}
				if strings.Contains(strings.ToLower(string(r.Body)), "x-amz-signature") && refusal(want) {
					t.Fatalf("a presigned URL leaked: %s", r.Body)
				}
				code := r.code(t)
				switch {
				case refusal(want):
					if after := f.snapshot(t); after != before {
						t.Fatalf("a refused call changed something:\nbefore %s\nafter  %s", before, after)
					}
				case r.Status >= 400 && has(accessCodes, code):
					t.Fatalf("allowed, but answered %s: %s", code, r.Body)
				}
			})
		}
	}
	// Every route that names an object is in the table, with the two that
	// name one in their body (or none).
	for _, r := range httpapi.Routes() {
		if key := r.Key(); (strings.Contains(key, "{") || key == "POST /v1/cases" || key == "GET /v1/review/queue") && !covered[key] {
			t.Errorf("route %s is not in the sweep", key)
		}
	}
}
