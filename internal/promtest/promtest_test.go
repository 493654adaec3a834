package promtest

import (
	"strings"
	"testing"
)

// Parse accepts a well-formed exposition and refuses one with a malformed
// line, a family declared twice, or a series given twice.
func TestParse(t *testing.T) {
	good := "# TYPE a_total counter\na_total{x=\"1\"} 2\na_total{x=\"2\"} 3\n# TYPE b gauge\nb 4\n"
	fs, err := Parse(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := fs.Value("a_total", "x", "2"); !ok || v != 3 {
		t.Errorf("a_total{x=2} = %v %v", v, ok)
	}
	if _, ok := fs.Value("a_total", "x", "9"); ok {
		t.Error("found a series that is not there")
	}
	for name, bad := range map[string]string{
		"malformed":      "a_total{x=\"1\" 2\n",
		"family twice":   "# TYPE b gauge\nb 1\n# TYPE c gauge\nc 1\n# TYPE b gauge\nb 2\n",
		"series twice":   "# TYPE a_total counter\na_total{x=\"1\"} 2\na_total{x=\"1\"} 3\n",
		"no label twice": "b 1\nb 2\n",
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}
