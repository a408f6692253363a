"""The package layout, which pyproject.toml cannot express: one ``tokensim`` namespace mapped onto
the repository's top-level folders (see tokensim/__init__.py). Everything else is in pyproject.toml."""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("mechanisms", "experiments")  # Python packages
DATA = {"seeds": ["*.toml", "*.md"], "data": ["*.csv", "*.md"]}  # folders of data, shipped as package data


class BuildPy(build_py):
    """Also ship the Streamlit entry point (app.py at the repository root) as tokensim/app.py.

    An editable install needs no copy: there tokensim/__init__.py extends the package's path to
    the repository root, where app.py is."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "tokensim"
            self.mkpath(str(target))
            self.copy_file(str(ROOT / "app.py"), str(target / "app.py"))


packages = ["tokensim"]
package_dir = {"tokensim": "tokensim"}
for folder in FOLDERS:
    package_dir[f"tokensim.{folder}"] = folder
    packages += [f"tokensim.{folder}"] + [f"tokensim.{folder}.{sub}" for sub in find_packages(folder)]
package_data = {"tokensim": ["py.typed"], "tokensim.experiments": ["specs/*.toml"]}
for folder, patterns in DATA.items():
    if (ROOT / folder).is_dir():
        package_dir[f"tokensim.{folder}"] = folder
        packages.append(f"tokensim.{folder}")
        package_data[f"tokensim.{folder}"] = patterns

setup(packages=packages, package_dir=package_dir, package_data=package_data, cmdclass={"build_py": BuildPy})
