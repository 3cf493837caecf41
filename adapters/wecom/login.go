package wecom

import (
	"context"
	"fmt"
	"net/url"
)

// UserIDByCode turns the code of a WeCom web login (网页授权 or 扫码登录)
// into the member's userid (GET /cgi-bin/auth/getuserinfo with the app's
// access token); "" for a visitor who is not a member of the corp (WeCom
// answers an openid instead).
func (a *Adapter) UserIDByCode(ctx context.Context, code string) (string, error) {
	var resp struct {
		UserID string `json:"userid"`
	}
	if err := a.api.call(ctx, "auth/getuserinfo", url.Values{"code": {code}}, nil, &resp); err != nil {
		return "", fmt.Errorf("wecom: web login: %w", err)
	}
	return resp.UserID, nil
}
