// Search by photo, enhanced: a dropzone (also paste), the phone's camera, a preview with a crop box, and
// results shown without leaving the page. Without this script the page is a plain multipart form.
//
// The crop is sent as fractions of the photo as displayed: browsers show photos upright (EXIF orientation),
// and the server turns them upright the same way before cropping.

const WHOLE_PHOTO = Object.freeze({ left: 0, top: 0, width: 1, height: 1 });
// Of the photo's width or height; the server refuses less than 0.02.
const MIN_SIDE = 0.05;
const KEY_STEP = 0.02;
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

const clamp = (value, min, max) => Math.min(Math.max(value, min), max);
const round4 = (value) => Math.round(value * 10000) / 10000;
const megabytes = (bytes) => `${(bytes / 1_000_000).toFixed(1)} MB`;

function moved(crop, dx, dy) {
  return {
    ...crop,
    left: clamp(crop.left + dx, 0, 1 - crop.width),
    top: clamp(crop.top + dy, 0, 1 - crop.height),
  };
}

// handle: the edges it moves, as compass points ("se" moves the bottom and right edges).
function resized(crop, handle, dx, dy) {
  let [left, top, right, bottom] = [crop.left, crop.top, crop.left + crop.width, crop.top + crop.height];
  if (handle.includes("w")) left = clamp(left + dx, 0, right - MIN_SIDE);
  if (handle.includes("e")) right = clamp(right + dx, left + MIN_SIDE, 1);
  if (handle.includes("n")) top = clamp(top + dy, 0, bottom - MIN_SIDE);
  if (handle.includes("s")) bottom = clamp(bottom + dy, top + MIN_SIDE, 1);
  return { left, top, width: right - left, height: bottom - top };
}

const isWhole = (crop) => crop.width > 0.999 && crop.height > 0.999;

class CropBox {
  constructor(stage, box, onChange) {
    this.stage = stage;
    this.box = box;
    this.onChange = onChange;
    this.crop = WHOLE_PHOTO;
    box.addEventListener("pointerdown", (event) => this.drag(event));
    box.addEventListener("keydown", (event) => this.nudge(event));
  }

  set(crop) {
    this.crop = crop;
    Object.assign(this.box.style, {
      left: `${crop.left * 100}%`,
      top: `${crop.top * 100}%`,
      width: `${crop.width * 100}%`,
      height: `${crop.height * 100}%`,
    });
    this.onChange(crop);
  }

  drag(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    const handle = event.target.dataset.handle;
    const { width, height } = this.stage.getBoundingClientRect();
    const start = { x: event.clientX, y: event.clientY, crop: this.crop };
    const move = (moveEvent) => {
      const dx = (moveEvent.clientX - start.x) / width;
      const dy = (moveEvent.clientY - start.y) / height;
      this.set(handle ? resized(start.crop, handle, dx, dy) : moved(start.crop, dx, dy));
    };
    const end = () => {
      this.box.removeEventListener("pointermove", move);
      this.box.removeEventListener("pointerup", end);
      this.box.removeEventListener("pointercancel", end);
    };
    // Captured, the pointer keeps moving the box when it leaves it (or the photo) mid-drag.
    this.box.setPointerCapture(event.pointerId);
    this.box.addEventListener("pointermove", move);
    this.box.addEventListener("pointerup", end);
    this.box.addEventListener("pointercancel", end);
    this.box.focus({ preventScroll: true });
  }

  nudge(event) {
    const arrow = ARROWS[event.key];
    if (!arrow || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const [dx, dy] = arrow.map((step) => step * KEY_STEP);
    this.set(event.shiftKey ? resized(this.crop, "se", dx, dy) : moved(this.crop, dx, dy));
  }
}

class PhotoSearch {
  constructor(form) {
    this.form = form;
    this.input = form.querySelector('input[type="file"]:not([data-camera])');
    this.camera = form.querySelector("[data-camera]");
    this.picker = form.querySelector("[data-picker]");
    this.dropzone = form.querySelector("[data-dropzone]");
    this.fileNote = form.querySelector("[data-file-note]");
    this.cropper = form.querySelector("[data-cropper]");
    this.preview = form.querySelector("[data-preview]");
    this.cropStatus = form.querySelector("[data-crop-status]");
    this.resetCrop = form.querySelector("[data-reset-crop]");
    this.submit = form.querySelector("[data-submit]");
    this.status = form.querySelector("[data-status]");
    this.outcome = document.querySelector("[data-outcome]");
    this.maxBytes = Number(this.input.dataset.maxBytes);
    this.cropFields = Object.fromEntries(
      ["left", "top", "width", "height"].map((name) => [name, form.elements[`crop_${name}`]]),
    );
    this.cropBox = new CropBox(form.querySelector("[data-stage]"), form.querySelector("[data-box]"), (crop) =>
      this.cropChanged(crop),
    );
    this.file = null;
    this.previewUrl = "";
  }

  enhance() {
    this.form.classList.add("is-enhanced");
    this.form.querySelectorAll("[data-js-only]").forEach((element) => (element.hidden = false));
    // The script sends the chosen photo itself, whichever control it came from.
    this.camera.removeAttribute("name");

    this.input.addEventListener("change", () => this.choose(this.input.files[0]));
    this.camera.addEventListener("change", () => this.choose(this.camera.files[0]));
    this.preview.addEventListener("load", () => this.showPreview());
    this.preview.addEventListener("error", () => this.showNoPreview());
    this.resetCrop.addEventListener("click", () => {
      this.cropBox.set(WHOLE_PHOTO);
      // The button is disabled now: the crop box keeps the keyboard's focus nearby.
      this.cropBox.box.focus();
    });
    this.form.querySelector("[data-change-photo]").addEventListener("click", () => this.input.click());
    this.form.addEventListener("submit", (event) => this.search(event));
    this.listenForDrops();
    document.addEventListener("paste", (event) => {
      const file = [...event.clipboardData.files].find((item) => item.type.startsWith("image/"));
      if (file) this.choose(file);
    });
    // A photo the browser kept in the file input on going back to the page.
    if (this.input.files.length) this.choose(this.input.files[0]);
  }

  listenForDrops() {
    const hasFiles = (event) => event.dataTransfer?.types.includes("Files");
    for (const type of ["dragenter", "dragover"]) {
      this.picker.addEventListener(type, (event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        this.picker.classList.add("is-dragover");
      });
    }
    this.picker.addEventListener("dragleave", (event) => {
      if (!this.picker.contains(event.relatedTarget)) this.picker.classList.remove("is-dragover");
    });
    // Dropped anywhere on the page, a photo is taken rather than opened by the browser in place of the shop.
    document.addEventListener("dragover", (event) => hasFiles(event) && event.preventDefault());
    document.addEventListener("drop", (event) => {
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      this.picker.classList.remove("is-dragover");
      this.choose(event.dataTransfer.files[0]);
    });
  }

  choose(file) {
    if (!file) return;
    if (file.size > this.maxBytes) {
      this.showMessage(
        `The photo is ${megabytes(file.size)}; photos up to ${megabytes(this.maxBytes)} can be searched.`,
      );
      return;
    }
    this.file = file;
    URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(file);
    this.preview.src = this.previewUrl;
  }

  showPreview() {
    this.fileNote.hidden = true;
    this.dropzone.hidden = true;
    this.cropper.hidden = false;
    this.cropBox.set(WHOLE_PHOTO);
  }

  // The server decides whether it can read a file the browser cannot show (or that is not a photo at all).
  showNoPreview() {
    if (!this.file) return;
    this.cropper.hidden = true;
    this.dropzone.hidden = false;
    this.fileNote.textContent = `${this.file.name || "Your file"} is chosen, but this browser cannot show it.`;
    this.fileNote.hidden = false;
    this.setCropFields(null);
  }

  cropChanged(crop) {
    this.setCropFields(crop);
    const whole = isWhole(crop);
    this.resetCrop.disabled = whole;
    this.cropStatus.textContent = whole
      ? "Searching the whole photo"
      : `Searching part of the photo (${Math.round(crop.width * 100)}% × ${Math.round(crop.height * 100)}%)`;
  }

  // Rounded from the right and bottom edges, so that left + width never passes 1.
  setCropFields(crop) {
    const values = { left: "", top: "", width: "", height: "" };
    if (crop) {
      const [left, top] = [round4(crop.left), round4(crop.top)];
      const [right, bottom] = [round4(crop.left + crop.width), round4(crop.top + crop.height)];
      Object.assign(values, { left, top, width: round4(right - left), height: round4(bottom - top) });
    }
    for (const [name, value] of Object.entries(values)) this.cropFields[name].value = value;
  }

  async search(event) {
    event.preventDefault();
    const data = new FormData(this.form);
    data.delete("image");
    if (this.file) data.append("image", this.file, this.file.name || "photo.jpg");
    this.setBusy(true);
    try {
      const response = await fetch(this.form.action, { method: "POST", body: data, credentials: "same-origin" });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const outcome = page.querySelector("[data-outcome]");
      if (!outcome) throw new Error(`The server answered ${response.status}.`);
      this.outcome.replaceChildren(...outcome.childNodes);
      this.status.textContent = this.outcome.querySelector("[data-summary]")?.textContent ?? "";
      this.revealOutcome();
    } catch {
      this.showMessage("The search could not be completed. Check your connection and try again.");
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.submit.disabled = busy;
    this.submit.textContent = busy ? "Searching…" : "Search";
    this.outcome.setAttribute("aria-busy", String(busy));
    if (busy) this.status.textContent = "Searching…";
  }

  showMessage(message) {
    const alert = document.createElement("div");
    alert.className = "photo-search__error";
    alert.setAttribute("role", "alert");
    alert.append(Object.assign(document.createElement("p"), { textContent: message }));
    this.outcome.replaceChildren(alert);
    this.revealOutcome();
  }

  // On phones the results are below the form.
  revealOutcome() {
    const { top } = this.outcome.getBoundingClientRect();
    if (top < 0 || top > window.innerHeight * 0.75) {
      const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      this.outcome.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "start" });
    }
  }
}

const form = document.querySelector("[data-photo-search]");
if (form) new PhotoSearch(form).enhance();
