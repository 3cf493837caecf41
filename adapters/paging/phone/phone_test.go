package phone

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ name, in, e164, dom string }{
		{"mainland", "13800138000", "+8613800138000", "13800138000"},
		{"plus 86 with spaces", "+86 138-0013-8000", "+8613800138000", "13800138000"},
		{"0086", "008613800138000", "+8613800138000", "13800138000"},
		{"full-width", "１３８００１３８０００", "+8613800138000", "13800138000"},
		{"hong kong", "+85291234567", "+85291234567", "85291234567"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := E164(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.e164, got)
			got, err = Domestic(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.dom, got)
		})
	}
	for _, bad := range []string{"", "abc", "12345", "23800138000", "+86123", "a@b.cn"} {
		_, _, err := Parse(bad)
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
}
