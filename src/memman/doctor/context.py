"""What every check needs: the data dir, its settings, and how to spell a command."""
import shlex
from dataclasses import dataclass

from memman.config.datadir import DataDir
from memman.config.settings import Settings


@dataclass
class DoctorContext:
    datadir: DataDir
    settings: Settings
    data_dir_option: str | None = None  # --data-dir as given, repeated in remedies

    def memman(self, *args: str, store: str | None = None) -> str:
        """A memman command line for a remedy, with the options this run used."""
        words = ["memman"]
        if self.data_dir_option:
            words += ["--data-dir", str(self.datadir.root)]
        if store:
            words += ["--store", store]
        return " ".join(shlex.quote(w) for w in [*words, *args])
