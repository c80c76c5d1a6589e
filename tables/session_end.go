package tables

// SessionEnded forgets what the database keeps for session conn: the ids
// of its last INSERT (stripe_last_insert_id()). The server calls it when
// the connection closes and when the client resets it
// (COM_RESET_CONNECTION, which MySQL documents as clearing
// LAST_INSERT_ID), so a pooled connection does not hand the next user the
// previous user's ids.
func (d *Database) SessionEnded(conn uint32) {
	d.wstate.inserted.forget(conn)
}

func (s *insertedIDs) forget(session uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[session]; !ok {
		return
	}
	delete(s.ids, session)
	for i, o := range s.order {
		if o == session {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}
