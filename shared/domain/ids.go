package domain

import (
	"crypto/rand"
	"strings"
	"time"
)

// Entity ids are ULID-shaped: 26 characters of lowercase Crockford base32
// (URL-safe, no i, l, o, u) encoding 48 bits of Unix milliseconds followed
// by 80 random bits from crypto/rand. Ids sort by creation time (to the
// millisecond) as plain strings, which keeps DynamoDB sort keys and list
// pages in creation order, and they are unguessable.

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// IDLength is the length of every entity id.
const IDLength = 26

// NewID returns a fresh id for the current time. The wall clock here only
// orders ids; no rule depends on it (rules take time as a parameter).
func NewID() string { return NewIDAt(time.Now()) }

// idTime is an id's first 48 bits: at in Unix milliseconds.
func idTime(at time.Time) [16]byte {
	var b [16]byte
	ms := at.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return b
}

// NewIDAt returns a fresh id whose time part is at (ids made for the same
// millisecond are ordered randomly).
func NewIDAt(at time.Time) string {
	b := idTime(at)
	// crypto/rand.Read never fails (Go 1.24+: it aborts the program
	// rather than return a weak value).
	_, _ = rand.Read(b[6:])
	return encodeID(b)
}

// encodeID writes the 128 bits as 26 base32 digits, most significant first
// (the first digit holds only 3 bits, so it is 0..7).
func encodeID(b [16]byte) string {
	var out [IDLength]byte
	for i := range out {
		v := 0
		for j := 0; j < 5; j++ {
			bit := i*5 + j - 2 // the 130-bit number has two leading zero bits
			v <<= 1
			if bit >= 0 && b[bit/8]>>(7-bit%8)&1 == 1 {
				v |= 1
			}
		}
		out[i] = idAlphabet[v]
	}
	return string(out[:])
}

// ValidID reports whether s is a well-formed id (what NewID makes). Handlers
// answer 404 for anything else without touching the store.
func ValidID(s string) bool {
	if len(s) != IDLength || s[0] < '0' || s[0] > '7' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return false
		}
	}
	return true
}

func isIDChar(c byte) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case c >= 'a' && c <= 'z':
		return c != 'i' && c != 'l' && c != 'o' && c != 'u'
	}
	return false
}

// IDTime is the millisecond an id was made for (NewIDAt's at, truncated);
// ok is false for a malformed id.
func IDTime(id string) (time.Time, bool) {
	if !ValidID(id) {
		return time.Time{}, false
	}
	var ms int64
	for i := 0; i < 10; i++ { // 10 digits: 2 leading zero bits + 48 bits of time
		ms = ms<<5 | int64(strings.IndexByte(idAlphabet, id[i]))
	}
	return time.UnixMilli(ms).UTC(), true
}
