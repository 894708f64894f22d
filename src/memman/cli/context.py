"""Per-invocation state shared by commands: data dir, store name, settings."""
import json

import click

from memman.config import stores
from memman.config.datadir import DataDir, resolve_root


class App:
    def __init__(self, *, data_dir_option=None, store_option=None, verbose=False, debug=False):
        self.data_dir_option = data_dir_option
        self.store_option = store_option
        self.verbose = verbose
        self.debug = debug
        self._datadir = None
        self._settings = None
        self._store = None

    @property
    def datadir(self) -> DataDir:
        if self._datadir is None:
            self._datadir = DataDir(resolve_root(self.data_dir_option))
        return self._datadir

    @property
    def settings(self):
        if self._settings is None:
            from memman.config.settings import Settings

            self._settings = Settings(self.datadir.env_file)
        return self._settings

    @property
    def store(self) -> str:
        if self._store is None:
            self._store, _ = stores.resolve(self.store_option, self.datadir.active_file)
        return self._store

    def store_with_source(self) -> tuple[str, str]:
        return stores.resolve(self.store_option, self.datadir.active_file)


pass_app = click.make_pass_decorator(App)


def emit(obj) -> None:
    """One JSON document on stdout (indent 2, sorted keys)."""
    click.echo(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str))
