package load

// PoisonArenas makes recycled arenas be overwritten, so that a record used after its batch
// was recycled no longer reads as its input.
func PoisonArenas(on bool) { poisonArenas = on }

// LineFraming turns framing NDJSON records by their lines on or off.
func LineFraming(on bool) { lineFraming = on }
