package cve

import (
	"fmt"
	"math"
	"strings"
)

// CVSSBaseScore computes the CVSS v3.0/v3.1 base score and severity
// ("NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL") of a vector such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" (FIRST CVSS v3.1
// specification, section 7.1; both versions share the base formula but
// v3.0 rounds up naively). Temporal and environmental metrics in the
// vector are ignored. Errors wrap ErrBadCVSS.
func CVSSBaseScore(vector string) (float64, string, error) {
	parts := strings.Split(vector, "/")
	version, ok := strings.CutPrefix(parts[0], "CVSS:")
	if !ok || (version != "3.0" && version != "3.1") {
		return 0, "", fmt.Errorf("%w: %q: want CVSS:3.0 or CVSS:3.1", ErrBadCVSS, vector)
	}
	m := make(map[string]string, len(parts)-1)
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, ":")
		if !ok || k == "" || v == "" {
			return 0, "", fmt.Errorf("%w: %q: bad metric %q", ErrBadCVSS, vector, p)
		}
		if _, dup := m[k]; dup {
			return 0, "", fmt.Errorf("%w: %q: metric %s repeated", ErrBadCVSS, vector, k)
		}
		m[k] = v
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := make(map[string]float64, 8)
	for k, table := range weights {
		v, ok := table[m[k]]
		if !ok {
			return 0, "", fmt.Errorf("%w: %q: missing or bad %s", ErrBadCVSS, vector, k)
		}
		w[k] = v
	}
	changed := false
	switch m["S"] {
	case "U":
	case "C":
		changed = true
	default:
		return 0, "", fmt.Errorf("%w: %q: missing or bad S", ErrBadCVSS, vector)
	}
	switch m["PR"] {
	case "N":
		w["PR"] = 0.85
	case "L":
		w["PR"] = 0.62
		if changed {
			w["PR"] = 0.68
		}
	case "H":
		w["PR"] = 0.27
		if changed {
			w["PR"] = 0.5
		}
	default:
		return 0, "", fmt.Errorf("%w: %q: missing or bad PR", ErrBadCVSS, vector)
	}

	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	exploitability := 8.22 * w["AV"] * w["AC"] * w["PR"] * w["UI"]
	roundup := roundup31
	if version == "3.0" {
		roundup = roundup30
	}
	var score float64
	switch {
	case impact <= 0:
		score = 0
	case changed:
		score = roundup(math.Min(1.08*(impact+exploitability), 10))
	default:
		score = roundup(math.Min(impact+exploitability, 10))
	}
	return score, severity(score), nil
}

// roundup31 is the CVSS v3.1 Roundup: the smallest number with one
// decimal that is >= x, computed on integers to avoid float artefacts.
func roundup31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// roundup30 is the CVSS v3.0 round up to one decimal.
func roundup30(x float64) float64 { return math.Ceil(x*10) / 10 }

func severity(score float64) string {
	switch {
	case score == 0:
		return "NONE"
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	case score < 9:
		return "HIGH"
	default:
		return "CRITICAL"
	}
}
