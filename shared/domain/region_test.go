package domain

import "testing"

func TestRegionOfUSCC(t *testing.T) {
	tests := []struct {
		name, uscc, want string
	}{
		{"Shenzhen", SampleUSCC(1), "440300"},
		{"Beijing Chaoyang", SampleUSCCIn("110105", 1), "110105"},
		{"typed with spaces and lower case", " 9144 0300" + SampleUSCC(2)[8:12] + " " + SampleUSCC(2)[12:], "440300"},
		{"full-width digits", "９１４４０３０５" + SampleUSCCIn("440305", 3)[8:], "440305"},
		{"too short", "91440300", ""},
		{"letters where the division is", "91A40300" + SampleUSCC(4)[8:], ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RegionOfUSCC(tt.uscc); got != tt.want {
				t.Errorf("RegionOfUSCC(%q) = %q, want %q", tt.uscc, got, tt.want)
			}
		})
	}
}

func TestRegionsAgree(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"440300", "440300", true},
		{"440300", "440305", true},  // city contains district
		{"440305", "440300", true},  // district within the city
		{"440000", "440305", true},  // province contains district
		{"440305", "440000", true},  // and the other way round
		{"440305", "440306", false}, // two districts of one city
		{"440300", "440100", false}, // Shenzhen is not Guangzhou
		{"110105", "440300", false}, // Beijing is not Shenzhen
		{"110000", "110105", true},
		{"110100", "110105", true},
		{"4403", "440300", false},
		{"", "440300", false},
	}
	for _, tt := range tests {
		if got := RegionsAgree(tt.a, tt.b); got != tt.want {
			t.Errorf("RegionsAgree(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// The subsidy follows the USCC, whatever was declared: a Beijing
// enterprise declaring Shenzhen is refused, and its fee has no subsidy.
func TestRegionFromUSCCDecidesTheSubsidy(t *testing.T) {
	tests := []struct {
		name        string
		uscc        string
		declared    string
		wantMatch   bool // the declaration is accepted
		wantSubsidy int64
		wantProgram string
	}{
		{"Beijing USCC declaring Shenzhen", SampleUSCCIn("110105", 1), "440300", false, 0, ""},
		{"Beijing USCC, nothing declared", SampleUSCCIn("110105", 1), "", true, 0, ""},
		{"Beijing USCC declaring Beijing", SampleUSCCIn("110105", 1), "110105", true, 0, ""},
		{"Shenzhen USCC declaring Shenzhen", SampleUSCC(2), "440300", true, 15000, "shenzhen_sme_digital"},
		{"Nanshan USCC declaring Shenzhen: the program matches by prefecture", SampleUSCCIn("440305", 3), "440300", true, 15000, "shenzhen_sme_digital"},
		{"Shenzhen USCC declaring Nanshan", SampleUSCC(4), "440305", true, 15000, "shenzhen_sme_digital"},
		{"Guangdong USCC declaring Shenzhen: a province-level registration is not Shenzhen's", SampleUSCCIn("440000", 5), "440300", true, 0, ""},
		{"Nanshan USCC declaring Guangzhou", SampleUSCCIn("440305", 6), "440100", false, 15000, "shenzhen_sme_digital"},
		{"Guangzhou USCC declaring Shenzhen", SampleUSCCIn("440106", 7), "440300", false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := CheckDeclaredRegion(tt.declared, tt.uscc)
			if (f == nil) != tt.wantMatch {
				t.Fatalf("CheckDeclaredRegion(%q, %q) = %+v, want accepted=%v", tt.declared, tt.uscc, f, tt.wantMatch)
			}
			if f != nil && (f.Code != "region_mismatch" || f.Field != "regionCode" || f.Message.Zh == "" || f.Message.En == "") {
				t.Fatalf("field error %+v", f)
			}
			e := Enterprise{USCC: tt.uscc}
			fee := FeeFor(KindInitial, e.Region(), DefaultRules)
			if fee.SubsidyFen != tt.wantSubsidy || fee.Program != tt.wantProgram {
				t.Errorf("fee %+v, want subsidy %d program %q", fee, tt.wantSubsidy, tt.wantProgram)
			}
		})
	}
}
