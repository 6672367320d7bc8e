package domain

// The enterprise's region, which selects regional fee subsidies, is not
// something the applicant declares: characters 3-8 of the Unified Social
// Credit Code are the administrative division code (GB/T 2260) of the
// registration authority that issued it, so the USCC already says where
// the enterprise is registered. A self-declared region would let a Beijing
// enterprise claim Shenzhen's subsidy.
//
// GB/T 2260 codes are hierarchical: XX0000 is a province, XXXX00 a
// prefecture-level city within it, XXXXXX a county or district within that.

// RegionOfUSCC returns the administrative division code in characters 3-8
// of a USCC (after NormalizeUSCC), or "" when uscc is not shaped like one.
func RegionOfUSCC(uscc string) string {
	s := NormalizeUSCC(uscc)
	if len(s) != 18 {
		return ""
	}
	code := s[2:8]
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return ""
		}
	}
	return code
}

// Region is the enterprise's administrative division code, read from its
// USCC: the one source of the region (and so of regional subsidies).
func (e *Enterprise) Region() string { return RegionOfUSCC(e.USCC) }

// RegionsAgree reports whether two 6-digit division codes lie on one branch
// of the hierarchy: equal, or one is the province (XX0000) or the
// prefecture (XXXX00) that contains the other. 440300 (Shenzhen) agrees
// with 440305 (Nanshan) and 440000 (Guangdong); 110105 (Beijing Chaoyang)
// agrees with none of them.
func RegionsAgree(a, b string) bool {
	if len(a) != 6 || len(b) != 6 {
		return false
	}
	return a == b || regionContains(a, b) || regionContains(b, a)
}

// regionContains reports whether outer is the province or prefecture code
// above inner.
func regionContains(outer, inner string) bool {
	return outer == inner[:2]+"0000" || outer == inner[:4]+"00"
}

// CheckDeclaredRegion refuses a declared region that contradicts the one in
// the USCC (422 region_mismatch on field regionCode). An empty declaration
// agrees with anything: the region is taken from the USCC either way.
func CheckDeclaredRegion(declared, uscc string) *FieldError {
	if declared == "" {
		return nil
	}
	registered := RegionOfUSCC(uscc)
	if registered == "" || RegionsAgree(declared, registered) {
		return nil
	}
	return &FieldError{Field: "regionCode", Code: "region_mismatch", Message: Text{
		Zh: "地区代码 " + declared + " 与统一社会信用代码中的登记机关行政区划 " + registered + " 不符；地区（及地区补贴）以统一社会信用代码为准，可不填写 regionCode。",
		En: "regionCode " + declared + " contradicts the registration authority's division " + registered +
			" in the USCC; the region (and any regional subsidy) follows the USCC, and regionCode may be left out.",
	}}
}
