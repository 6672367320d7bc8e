//go:build race

package doccheck

// raceEnabled relaxes timing assertions: the race detector slows our code
// and the standard library's unevenly.
const raceEnabled = true
