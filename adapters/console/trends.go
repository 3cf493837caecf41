package console

// trendPages lists the trends pages; the trends helper fills this file in.
func (c *Console) trendPages() []Page { return nil }
