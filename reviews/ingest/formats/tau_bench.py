"""tau-bench trajectories: ``{task_id, trial, reward, info, traj}`` with OpenAI tool calls in ``traj``.

The last assistant message of ``traj`` is the reply under review and every
message before it is the conversation. The default external id is
``task-<task_id>-trial-<trial>``; ``task_id``, ``trial``, ``reward`` and
``info`` stay in metadata.
"""

from ..errors import RowError, json_type
from ..records import FormatParts
from .chat import parts_from_messages

NAME = "tau-bench"
SIGNATURE = ("traj",)
USED_KEYS = ("traj",)
# The other keys of a tau-bench trajectory. task_id and trial also make the external id.
EXTRA_KEYS = ("task_id", "trial", "reward", "info")


def parts_from_row(row: dict) -> FormatParts:
    if not isinstance(row.get("traj"), list):
        raise RowError("traj", f"expected an array of messages, got {json_type(row.get('traj'))}")
    for key in ("task_id", "trial"):
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise RowError(key, f"expected an integer or a string, got {json_type(value)}; it names the trajectory")
    parts = parts_from_messages(row["traj"], field="traj")
    parts.external_id = f"task-{row['task_id']}-trial-{row['trial']}"
    return parts
