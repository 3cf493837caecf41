package alerts

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// webhookBodies are bodies as Alertmanager writes them (scan must take
// them itself) and bodies it must leave to encoding/json.
var (
	webhookBodies = []string{
		// The bench's shape: Chinese annotations, five labels.
		`{"alerts":[{"annotations":{"description":"主机资源使用率持续超过阈值，请值班人员检查进程与磁盘。","runbook_url":"https://wiki.example.gov.cn/runbooks/node-resources","summary":"节点 10.0.3.0 资源告警"},"endsAt":"0001-01-01T00:00:00Z","fingerprint":"0000000300000000","generatorURL":"http://prometheus.example.gov.cn/graph?g0.expr=node_load1","labels":{"alertname":"SteadyAlert003","app":"sjsj","instance":"10.0.3.0:9100","job":"node","region":"dongcheng","severity":"critical"},"startsAt":"2026-11-30T01:00:00Z","status":"firing"}],"commonAnnotations":{"summary":"SteadyAlert003 主机资源告警"},"commonLabels":{"alertname":"SteadyAlert003","job":"node"},"externalURL":"http://alertmanager.example.gov.cn:9093","groupKey":"{}:{alertname=\"SteadyAlert003\"}","groupLabels":{"alertname":"SteadyAlert003"},"receiver":"opsbot","status":"firing","truncatedAlerts":0,"version":"4"}`,
		// Alertmanager's own order and escapes (Go's encoder: \u003c \u003e \u0026, quotes), indented, two alerts, a resolved one.
		`{
  "receiver": "opsbot",
  "status": "resolved",
  "alerts": [
    {
      "status": "resolved",
      "labels": {"alertname": "HTTP5xx", "path": "/api/v1/\"items\"", "severity": "warning"},
      "annotations": {"description": "5xx \u003e 5% for 10m \u0026 rising\nsee\tdashboard", "summary": "接口错误率高"},
      "startsAt": "2026-11-30T09:15:30.123456789+08:00",
      "endsAt": "2026-11-30T09:45:00Z",
      "generatorURL": "http://prom:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+0.05\u0026g0.tab=1",
      "fingerprint": "8f0a1b2c3d4e5f60"
    },
    {"status": "resolved", "labels": {}, "annotations": {}, "startsAt": "2026-11-30T01:00:00Z", "endsAt": "2026-11-30T02:00:00Z", "generatorURL": "", "fingerprint": "x\\y\/z\u00e9\u4e2d"}
  ],
  "groupLabels": {"alertname": "HTTP5xx"},
  "commonLabels": {"alertname": "HTTP5xx"},
  "commonAnnotations": {},
  "externalURL": "http://am:9093",
  "version": "4",
  "groupKey": "{}/{severity=\"warning\"}:{alertname=\"HTTP5xx\"}",
  "truncatedAlerts": 12
}`,
		`{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[]}`,
		`  {"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"1","a":"2"}}]}  ` + "\n",
	}
	// Bodies scan leaves to encoding/json (each for one reason), valid
	// or not.
	otherBodies = []string{
		`{"version":"4","groupKey":"g","status":"firing","extra":{"x":[1,2,{"y":null}]}}`, // unknown field
		`{"Version":"4","GROUPKEY":"g","status":"firing"}`,                                // keys in another case
		`{"version":"4","groupKey":"g","status":"firing","receiver":null}`,                // null
		`{"version":"4","groupKey":"g","groupKey":"h","status":"firing"}`,                 // a field twice
		`{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"},"labels":{"c":"d"}}]}`,
		`{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":-3}`,                // a negative number
		`{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":1.5}`,               // not an integer
		`{"version":"4","groupKey":"g","status":"firing","truncatedAlerts":1e3}`,               // an exponent
		`{"version":"4","groupKey":"\ud83d\ude00 \ud800","status":"firing"}`,                   // surrogates, a lone one
		"{\"version\":\"4\",\"groupKey\":\"\xff\xfe\",\"status\":\"firing\"}",                  // invalid UTF-8
		"{\"version\":\"4\",\"groupKey\":\"a\tb\",\"status\":\"firing\"}",                      // a raw control character
		`{"version":"4","groupKey":"g","status":"firing","alerts":[{"startsAt":"yesterday"}]}`, // a bad time
		`{"version":"4","groupKey":"g","status":"firing","alerts":[{"startsAt":null}]}`,
		`{"version":"4","groupKey":"g","status":"firing","alerts":{}}`, // wrong types
		`{"version":4,"groupKey":"g","status":"firing"}`,
		`{"version":"4","groupKey":"g","status":"firing","labels":{"a":1}}`,
		`{"version":"4","groupKey":"g","status":"firing"} trailing`, // bad syntax
		`{"version":"4","groupKey":"g","status":"firing",}`,
		`{"version":"4" "groupKey":"g"}`,
		`{"version":"4","groupKey":"g","status":"firing"`,
		"\xef\xbb\xbf{}", `null`, `[]`, `""`, ``, `{"alerts":[null]}`, `{"alerts":[{}],}`,
		`{"version":"4","groupKey":"\u00","status":"firing"}`, `{"version":"4","groupKey":"\x","status":"firing"}`,
	}
)

// agree checks scan against json.Unmarshal on body: what scan takes,
// encoding/json takes and decodes to the same payload; and unmarshal
// answers as json.Unmarshal does, error or payload. It says whether scan
// took the body.
func agree(t testing.TB, body []byte) bool {
	var want payload
	wantErr := json.Unmarshal(body, &want)
	var fast payload
	took := scan(body, &fast)
	if took {
		require.NoError(t, wantErr, "scan took a body encoding/json refuses: %q", body)
		require.Equal(t, want, fast, "%q", body)
	}
	var got payload
	err := unmarshal(body, &got)
	if wantErr != nil {
		require.EqualError(t, err, wantErr.Error(), "%q", body)
		return took
	}
	require.NoError(t, err, "%q", body)
	require.Equal(t, want, got, "%q", body)
	return took
}

// TestScanAgreesWithEncodingJSON: the webhook scanner takes Alertmanager's
// bodies itself and decodes them as encoding/json does; every other body
// (unknown fields, other spellings, nulls, duplicates, bad syntax) is
// decoded, or refused with the same error, by encoding/json; and so is
// every one of 30,000 bodies mutated from both (bytes flipped to JSON's
// own characters, dropped, doubled).
func TestScanAgreesWithEncodingJSON(t *testing.T) {
	for _, b := range webhookBodies {
		require.True(t, agree(t, []byte(b)), "scan must take Alertmanager's own bodies: %s", b)
	}
	for _, b := range otherBodies {
		require.False(t, agree(t, []byte(b)), "scan must leave this one to encoding/json: %s", b)
	}
	rng := rand.New(rand.NewPCG(20, 26))
	alphabet := []byte("{}[]:,\"\\ nu0123456789.-eE/tfa\t\n\xe4\xb8\xad\xff")
	seeds := append(append([]string{}, webhookBodies...), otherBodies...)
	took := 0
	for range 30000 {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				break
			}
			i := rng.IntN(len(b))
			switch rng.IntN(4) {
			case 0:
				b[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:i:i], b[i+1:]...)
			case 2:
				b = append(b[:i:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			default:
				j := min(len(b), i+1+rng.IntN(8))
				b = append(b[:j:j], append(bytes.Clone(b[i:j]), b[j:]...)...)
			}
		}
		if agree(t, b) {
			took++
		}
	}
	t.Logf("scan took %d of 30000 mutated bodies", took)
	require.Greater(t, took, 300, "mutations that stay well-formed are taken by scan too")
}

// FuzzScan: go test -fuzz=FuzzScan ./alerts holds scan to encoding/json
// beyond the mutations above.
func FuzzScan(f *testing.F) {
	for _, b := range append(append([]string{}, webhookBodies...), otherBodies...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

// BenchmarkDecode compares the scanner with encoding/json on the bench's body.
func BenchmarkDecode(b *testing.B) {
	body := []byte(webhookBodies[0])
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			var p payload
			if !scan(body, &p) {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for range b.N {
			var p payload
			if err := json.Unmarshal(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
