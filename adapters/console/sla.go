package console

// slaPages are the SLA board (filled in with phase 2).
func (c *Console) slaPages() []Page { return nil }
