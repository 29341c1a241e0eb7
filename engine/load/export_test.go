package load

// PoisonArenas makes recycled arenas be overwritten, so that a record used after its batch
// was recycled no longer reads as its input.
func PoisonArenas(on bool) { poisonArenas = on }

// LineFraming turns framing NDJSON records by their lines on or off, and returns how many
// lines were framed again (the engine did not take them whole) since the last call.
func LineFraming(on bool) int64 {
	lineFraming = on
	return reframedLines.Swap(0)
}
