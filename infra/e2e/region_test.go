package e2e

import (
	"testing"

	"microcert/shared/domain"
)

// TestRegionFromUSCC: the region, and so the subsidy, is the one in the
// USCC. A Beijing enterprise declaring Shenzhen's code is refused and,
// registered without it, pays the full fee; a Nanshan (440305) enterprise
// gets Shenzhen's 50% through the prefecture match.
func TestRegionFromUSCC(t *testing.T) {
	onShared(t)
	a := newApp(t, "applicant", "")
	beijing := domain.SampleUSCCIn("110105", int(seed.Add(1)))

	r := a.must(422, "POST", "/v1/enterprises", enterpriseBody(func(m map[string]any) {
		m["uscc"], m["regionCode"] = beijing, "440300"
	}))
	if r.code(t) != "region_mismatch" {
		t.Fatalf("code %s: %s", r.code(t), r.Body)
	}
	var p struct {
		Errors []struct{ Field, Code string } `json:"errors"`
	}
	r.decode(t, &p)
	if len(p.Errors) != 1 || p.Errors[0].Field != "regionCode" || p.Errors[0].Code != "region_mismatch" {
		t.Fatalf("errors %+v", p.Errors)
	}

	// Nothing was registered: the same USCC without a declared region goes
	// through, and its region is Beijing's.
	ent := a.createEnterprise(func(m map[string]any) {
		m["uscc"] = beijing
		delete(m, "regionCode")
	})
	if ent["regionCode"] != "110105" {
		t.Fatalf("regionCode %v, want 110105", ent["regionCode"])
	}
	fee := a.openCase(ent["id"].(string), "initial", "wecom")["fee"].(map[string]any)
	if fee["subsidyFen"].(float64) != 0 || fee["payableFen"].(float64) != 30000 {
		t.Fatalf("Beijing fee %v, want no subsidy", fee)
	}

	// A PATCH cannot move it either.
	version := ent["version"].(float64)
	r = a.must(422, "PATCH", "/v1/enterprises/"+ent["id"].(string), map[string]any{"regionCode": "440300", "version": version})
	if r.code(t) != "region_mismatch" {
		t.Fatalf("patch code %s", r.code(t))
	}
	after := a.must(200, "GET", "/v1/enterprises/"+ent["id"].(string), nil).obj(t)
	if after["version"].(float64) != version || after["regionCode"] != "110105" {
		t.Fatalf("after refused patch: version %v region %v", after["version"], after["regionCode"])
	}

	// Nanshan declaring its city: agrees, and the Shenzhen program applies.
	nanshan := a.createEnterprise(func(m map[string]any) {
		m["uscc"], m["regionCode"] = domain.SampleUSCCIn("440305", int(seed.Add(1))), "440300"
	})
	if nanshan["regionCode"] != "440305" {
		t.Fatalf("regionCode %v, want the USCC's 440305", nanshan["regionCode"])
	}
	fee = a.openCase(nanshan["id"].(string), "initial", "wecom")["fee"].(map[string]any)
	if fee["subsidyFen"].(float64) != 15000 || fee["subsidyProgram"] != "shenzhen_sme_digital" {
		t.Fatalf("Nanshan fee %v, want Shenzhen's 50%%", fee)
	}
}
