package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"opsbot/configs"
	"opsbot/core/paging"
)

// TestGatewayProviderSendsWhatItsEntryLists: a webhook gateway entry as
// README and the example config write it (methods: [webhook], url and
// secret in settings) builds and sends what it lists; a method no type
// can send is refused at start.
func TestGatewayProviderSendsWhatItsEntryLists(t *testing.T) {
	cfg := &configs.Config{}
	cfg.Paging.Providers = []configs.PagingProvider{{Name: "gov-gateway", Type: "webhook", Methods: []string{"webhook"},
		Settings: map[string]string{"url": "https://sms-gateway.example.gov.cn/send", "secret": "s3cret"}}}
	provs, err := pagingProviders(cfg)
	require.NoError(t, err)
	require.Len(t, provs, 1)
	require.Equal(t, []paging.Method{paging.MethodWebhook}, provs[0].Methods())

	cfg.Paging.Providers[0].Methods = []string{"sms", "webhook"}
	provs, err = pagingProviders(cfg)
	require.NoError(t, err)
	require.Equal(t, []paging.Method{paging.MethodSMS, paging.MethodWebhook}, provs[0].Methods())

	cfg.Paging.Providers[0].Type, cfg.Paging.Providers[0].Methods = "smtp", []string{"sms"}
	cfg.Paging.Providers[0].Settings = map[string]string{"host": "mail.example.gov.cn", "from": "ops@example.gov.cn"}
	_, err = pagingProviders(cfg)
	require.ErrorContains(t, err, "cannot send sms")
}
