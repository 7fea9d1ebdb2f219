"""The targets: one implementation of the Target port (usecases/target.py) per platform Warden can guard.

Each module owns what differs by platform: pause, resume and status (through its controller adapter), the facts
and by-hand commands of its messages, reading its deployment events, and planning a rollback its own way.
Wiring imports the one SERVICE_ARN names, inside its factory, so a handler loads only that platform's code.
"""
