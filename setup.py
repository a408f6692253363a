"""The package layout, which pyproject.toml cannot express: one ``tokensim`` namespace mapped onto
the repository's top-level folders (see tokensim/__init__.py). Everything else is in pyproject.toml."""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("mechanisms", "experiments")  # Python packages
DATA = {"seeds": ["*.toml", "*.md"], "data": ["*.csv", "*.md"]}  # folders of data, shipped as package data
APP = ("app.py", "app_pages")  # the Streamlit entry point and its page files, shipped as tokensim/app.py etc.


class BuildPy(build_py):
    """Also ship the Streamlit app (the root's app.py and its page files) inside the tokensim package.

    An editable install needs no copy: there tokensim/__init__.py extends the package's path to
    the repository root, where the app is."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "tokensim"
        for name in APP:
            files = [ROOT / name] if (ROOT / name).is_file() else sorted((ROOT / name).glob("*.py"))
            for source in files:
                destination = target / source.relative_to(ROOT)
                self.mkpath(str(destination.parent))
                self.copy_file(str(source), str(destination))


packages = ["tokensim"]
package_dir = {"tokensim": "tokensim"}
for folder in FOLDERS:
    package_dir[f"tokensim.{folder}"] = folder
    packages += [f"tokensim.{folder}"] + [f"tokensim.{folder}.{sub}" for sub in find_packages(folder)]
# Every package's own data files (specs, calibration tables), and the data folders.
package_data = {"": ["*.toml", "*.json", "*.csv"], "tokensim": ["py.typed"], "tokensim.experiments": ["specs/*.toml"]}
for folder, patterns in DATA.items():
    if (ROOT / folder).is_dir():
        package_dir[f"tokensim.{folder}"] = folder
        packages.append(f"tokensim.{folder}")
        package_data[f"tokensim.{folder}"] = patterns

setup(packages=packages, package_dir=package_dir, package_data=package_data, cmdclass={"build_py": BuildPy})
