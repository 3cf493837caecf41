package text

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCut(t *testing.T) {
	require.Equal(t, "政务云", Cut("政务云", 3))
	require.Equal(t, "政务…", Cut("政务云平台", 3))
	require.Equal(t, "", Cut("", 3))
}
