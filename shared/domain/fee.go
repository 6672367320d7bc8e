package domain

// FeeFor prices a case: the list price of its kind (one fee for all the
// types in it; appeals are free) less the regional subsidy. The subsidy
// program is found by the enterprise's region code: the exact code first,
// then its prefecture (first 4 digits + "00", so Nanshan 440305 finds
// Shenzhen 440300), then its province (first 2 digits + "0000"). The
// subsidy is rounded down to whole fen (the applicant pays an odd fen).
func FeeFor(kind CaseKind, regionCode string, r Rules) Fee {
	f := Fee{AmountFen: r.FeeFen[kind], Currency: r.Currency}
	if f.AmountFen > 0 {
		if p, ok := subsidyFor(regionCode, r); ok && p.Percent > 0 {
			pct := min(p.Percent, 100)
			f.SubsidyFen = f.AmountFen * pct / 100
			f.Program = p.Code
			f.RegionCode = regionCode
		}
	}
	f.PayableFen = f.AmountFen - f.SubsidyFen
	return f
}

func subsidyFor(regionCode string, r Rules) (SubsidyProgram, bool) {
	if p, ok := r.Subsidies[regionCode]; ok {
		return p, true
	}
	if len(regionCode) != 6 {
		return SubsidyProgram{}, false
	}
	for _, code := range []string{regionCode[:4] + "00", regionCode[:2] + "0000"} {
		if p, ok := r.Subsidies[code]; ok {
			return p, true
		}
	}
	return SubsidyProgram{}, false
}
