package load

// PoisonArenas makes recycled arenas be overwritten, so that a record used after its batch
// was recycled no longer reads as its input.
func PoisonArenas(on bool) { poisonArenas = on }
