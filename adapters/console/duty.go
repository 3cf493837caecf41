package console

// dutyPages lists the duty pages; the duty helper fills this file in.
func (c *Console) dutyPages() []Page { return nil }
