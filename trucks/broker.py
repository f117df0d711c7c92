"""The embedded broker: kombu's filesystem transport with each message written atomically.

kombu 5.7 creates a message's file in the queue folder and then writes it, so a consumer polling
the folder can take the file in between, read nothing, and the JSON error stops the whole worker
("Unrecoverable error: JSONDecodeError", seen in tests/workers when a worker resent an abandoned
run and took the message back before it was written). Here a message is written under a name no
consumer takes and renamed into place once complete: a rename within one folder is atomic.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

#: a message being written ends in this; consumers take only names ending in ``.<queue>.msg``
PARTIAL_SUFFIX = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written in full, then renamed into the queue."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            with open(final + PARTIAL_SUFFIX, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))
            os.replace(final + PARTIAL_SUFFIX, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
