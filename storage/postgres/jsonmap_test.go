package postgres

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAppendJSONObjectReadsBackAsEncodingJSON: what appendJSONObject
// writes decodes to the same map as encoding/json's own encoding, for text
// that needs escaping (quotes, backslashes, control characters, HTML
// characters, Chinese, invalid UTF-8), and is valid JSON.
func TestAppendJSONObjectReadsBackAsEncodingJSON(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{},
		{"alertname": "Disk", "instance": "10.0.0.1:9100", "severity": "critical"},
		{"summary": `磁盘 "/data" 将满`, "path": `C:\logs\app`, "html": "<a href='x'>&</a>", "ctl": "a\x00b\x01c\nd\re\tf\x1f"},
		{"bad": "\xff\xfe ok \xe4\xb8", "emoji": "🔥", "line sep": "\u2028\u2029"},
		{"k1": "1", "k2": "2", "k3": "3", "k4": "4", "k5": "5", "k6": "6", "k7": "7", "k8": "8", "k9": "9",
			"k10": "10", "k11": "11", "k12": "12", "k13": "13", "k14": "14", "k15": "15", "k16": "16", "k17": "17"},
	} {
		got := appendJSONObject(nil, m)
		require.True(t, json.Valid(got), "%s", got)
		var back, want map[string]string
		require.NoError(t, json.Unmarshal(got, &back))
		ref, err := json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(ref, &want))
		if want == nil {
			want = map[string]string{}
		}
		require.Equal(t, want, back)
	}
	require.Equal(t, `{"a":"1","b":"x\"y"}`, string(appendJSONObject(nil, map[string]string{"b": `x"y`, "a": "1"})), "keys sorted")
}

// jsonObjectCases are texts a labels column may hold, as jsonb prints
// them and otherwise, with some that are not a flat object of strings.
var jsonObjectCases = []string{
	`{}`, ` { } `, `{"alertname": "Disk", "instance": "10.0.0.1:9100"}`, `{"a":"1","b":"2"}`,
	`{"summary": "磁盘 将满", "emoji": "🔥"}`, `{"q": "x\"y", "p": "C:\\logs"}`, `{"u": "\u00e9\ud83d\udd25"}`,
	`{"dup": "1", "dup": "2"}`, `{"n": 1}`, `{"n": null}`, `{"o": {"x": "y"}}`, `null`, `[]`, `"s"`, `{`, `{"a"}`,
	`{"a": "1",}`, `{"a": "1"} x`, `{"a": "1"}{}`, "{\"bad\": \"\xff\"}", "{\"ctl\": \"a\x01b\"}", `{"a" "1"}`, ``, ` `,
	"{\"a\":\t\"1\"\n}",
}

// TestParseJSONObjectAsEncodingJSON: parseJSONObject gives what
// json.Unmarshal gives into a map of strings, value and error alike.
func TestParseJSONObjectAsEncodingJSON(t *testing.T) {
	for _, in := range jsonObjectCases {
		checkParseJSONObject(t, in)
	}
}

func FuzzParseJSONObject(f *testing.F) {
	for _, in := range jsonObjectCases {
		f.Add(in)
	}
	f.Fuzz(checkParseJSONObject)
}

func checkParseJSONObject(t *testing.T, in string) {
	var want map[string]string
	wantErr := json.Unmarshal([]byte(in), &want)
	got, err := parseJSONObject([]byte(in))
	if wantErr != nil {
		require.Error(t, err, "%q", in)
		return
	}
	require.NoError(t, err, "%q", in)
	require.Equal(t, want, got, "%q", in)
}
