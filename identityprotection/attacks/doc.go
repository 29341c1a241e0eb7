// Package attacks writes labelled attack scenarios into a stream of generated sign-ins
// (bench/gen output): password-spray campaigns, brute force from one address, threat-list
// and anonymizer (Tor) sign-ins, impossible travel, unfamiliar sign-in properties, sign-ins
// from countries the tenant never saw, MFA prompts reported as fraud and leaked
// credentials. Each attack event is a copy of one of the victim's own generated sign-ins
// with the attacker's properties written over it, so it has the exact Graph beta shape.
//
// Every scenario is built to raise one detection type (the labels), and the victims,
// times, places and addresses are chosen against the background so that no other
// detector has a reason to fire: that is what lets precision and recall be measured per
// detector. Output depends only on the background and Config.Seed.
package attacks
