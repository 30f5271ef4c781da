package ledger

// EncodeFields exposes the journal's record encoding of an event to the
// tests, which write journals as a crashed process left them.
var EncodeFields = encodeFields
