"""Every sentence Warden writes for people: use cases return facts, renderers here turn them into notifications.

The rule: use cases return what happened as typed facts (pydantic models, frozen dataclasses, enums); only
`messages/` writes sentences for people: subjects, headlines, section titles, table headers, advice, the undo
commands, the reasons the action log and the CLI show. One module per event kind (`keys.py` for the access-key
audit, ...), each a set of functions from facts to text or to a `Notification`.

`messages` may import `domain` and the use cases' fact types; a use case imports `messages` only to render at
its edge (what it publishes, records or returns for a person to read). Log messages and exception texts stay
where they are raised: they are for whoever debugs, not for the reader of a notification.

The approved text of every notification is a golden file under tests/golden/texts/: a wording change is one
edit here and one reviewed diff there (`UPDATE_GOLDEN=1`).
"""
