package console

// auditPages lists the audit pages; the trends helper (audit page) fills this file in.
func (c *Console) auditPages() []Page { return nil }
