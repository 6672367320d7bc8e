package domain

import (
	"fmt"
	"time"
)

// Test helpers, exported so other packages' tests can register many
// distinct enterprises. They compute real check characters, so the values
// pass ValidateUSCC and ValidateIDNumber; they are synthetic and belong to
// nobody.

// SampleUSCC returns a valid enterprise USCC (authority 9, category 1,
// Shenzhen 440300) whose organisation-code part encodes seed: distinct
// seeds give distinct codes for |seed| < 31^9/2 (about 1.3e13).
func SampleUSCC(seed int) string { return SampleUSCCIn("440300", seed) }

// SampleUSCCIn is SampleUSCC registered in another administrative division
// (a 6-digit GB/T 2260 code such as 110105, Beijing Chaoyang).
func SampleUSCCIn(region string, seed int) string {
	const space = 26439622160671 // 31^9
	v := uint64(seed) % space
	var org [9]byte
	for i := 8; i >= 0; i-- {
		org[i] = usccAlphabet[v%31]
		v /= 31
	}
	body := "91" + region + string(org[:])
	return body + string(usccCheckChar(body))
}

// SampleIDNumber returns a valid resident ID number (address code 110101)
// born between 1950-01-01 and 1999-12-31: distinct seeds give distinct
// numbers for 0 <= seed < 18,262,000 (days × 1000 sequence numbers), and
// the values wrap beyond that.
func SampleIDNumber(seed int) string {
	const days = 18262 // 1950-01-01 .. 1999-12-31
	v := uint64(seed) % (days * 1000)
	birth := civilEpoch.AddDate(0, 0, int(v/1000))
	body := fmt.Sprintf("110101%s%03d", birth.Format("20060102"), v%1000)
	return body + string(idCheckChar(body))
}

var civilEpoch = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
