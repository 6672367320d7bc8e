package domain

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFeeFor(t *testing.T) {
	odd := DefaultRules.Clone()
	odd.FeeFen[KindInitial] = 30001
	odd.Subsidies["310000"] = SubsidyProgram{Code: "shanghai_all", RegionCode: "310000", Percent: 100}
	tests := []struct {
		name   string
		kind   CaseKind
		region string
		rules  Rules
		want   Fee
	}{
		{"initial, no program", KindInitial, "110105", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
		{"annual review costs the annual fee", KindAnnualReview, "110105", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
		{"reinstatement costs the annual fee", KindReinstatement, "110105", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
		{"appeal is free", KindAppeal, "110105", DefaultRules, Fee{Currency: "CNY"}},
		{"appeal in Shenzhen stays free, no program", KindAppeal, "440300", DefaultRules, Fee{Currency: "CNY"}},
		{"Shenzhen 50%", KindInitial, "440300", DefaultRules, Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "shenzhen_sme_digital", RegionCode: "440300", Currency: "CNY"}},
		{"Shenzhen annual review 50%", KindAnnualReview, "440300", DefaultRules, Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "shenzhen_sme_digital", RegionCode: "440300", Currency: "CNY"}},
		{"Nanshan district finds Shenzhen", KindInitial, "440305", DefaultRules, Fee{AmountFen: 30000, SubsidyFen: 15000, PayableFen: 15000, Program: "shenzhen_sme_digital", RegionCode: "440305", Currency: "CNY"}},
		{"Guangzhou has none", KindInitial, "440100", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
		{"subsidy rounds down", KindInitial, "440300", odd, Fee{AmountFen: 30001, SubsidyFen: 15000, PayableFen: 15001, Program: "shenzhen_sme_digital", RegionCode: "440300", Currency: "CNY"}},
		{"province-wide program", KindAnnualReview, "310115", odd, Fee{AmountFen: 30000, SubsidyFen: 30000, PayableFen: 0, Program: "shanghai_all", RegionCode: "310115", Currency: "CNY"}},
		{"malformed region", KindInitial, "44", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
		{"empty region", KindInitial, "", DefaultRules, Fee{AmountFen: 30000, PayableFen: 30000, Currency: "CNY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FeeFor(tt.kind, tt.region, tt.rules)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
