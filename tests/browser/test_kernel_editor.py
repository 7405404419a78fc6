"""Notebook 02's kernel editor in a real browser: another preset, then one edited weight, change the output picture."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.notebook("02"), pytest.mark.timeout(180)]


def output_picture(editor):
    """The rendered output image (the second picture): its src and its pixels as the browser draws them."""
    img = editor.locator("img").nth(1)
    img.wait_for(state="visible")
    return img.get_attribute("src"), img.screenshot()


def wait_changed(lab, editor, label, before_text, before_src, what: str) -> str:
    """Wait until the output mean and the output image both differ from before; return the new mean."""
    lab.wait_js(
        """([root, oldText, oldSrc]) => {
             const labels = [...root.querySelectorAll('.jupyter-widgets.widget-label')].map(e => e.textContent);
             const img = root.querySelectorAll('img')[1];
             return labels.some(t => t.startsWith('output mean:') && t !== oldText)
                    && img && img.src !== oldSrc && img.complete && img.naturalWidth > 0;
           }""",
        [editor.element_handle(), before_text, before_src],
        f"after {what}, the output mean and picture should both change (mean was {before_text!r})")
    return label.inner_text()


def test_preset_and_weight_change_the_output(lab, notebook):
    lab.open(notebook)
    lab.run_all()
    editor = lab.widget("course-kernel-editor")
    mean = editor.locator(".jupyter-widgets.widget-label", has_text="output mean:")
    shape = editor.locator(".jupyter-widgets.widget-label", has_text="output shape:")
    preset = editor.locator(".widget-dropdown", has_text="preset").locator("select")
    center = editor.locator(".course-weight-11 input")

    start_mean = mean.inner_text()
    start_src, start_pixels = output_picture(editor)
    assert start_mean.startswith("output mean: ") and start_mean != "output mean: -", start_mean
    assert shape.inner_text().startswith("output shape: ("), shape.inner_text()
    start_preset = preset.input_value()
    start_center = center.input_value()

    # 1. another preset: the boxes, the mean and the picture all change
    new_preset = "box blur" if start_preset != "box blur" else "edge (8-neighbour)"
    preset.select_option(label=new_preset)
    blur_mean = wait_changed(lab, editor, mean, start_mean, start_src, f"choosing the preset {new_preset!r}")
    blur_src, blur_pixels = output_picture(editor)
    assert blur_pixels != start_pixels, "the output picture looks the same after choosing another preset"
    assert center.input_value() != start_center, "the weight boxes did not load the new preset"
    lab.step("preset")

    # 2. one edited weight (the centre): the mean and picture change again, the preset menu says (custom)
    center.fill("5")
    center.press("Tab")
    edited_mean = wait_changed(lab, editor, mean, blur_mean, blur_src, "typing 5 as the centre weight")
    _, edited_pixels = output_picture(editor)
    assert edited_pixels != blur_pixels, "the output picture looks the same after editing the centre weight"
    assert preset.input_value() == "(custom)", preset.input_value()
    message = editor.locator(".widget-html").inner_text().strip()
    assert not message, f"an error message is shown after a valid edit: {message!r}"
    lab.step("weight")
    print(f"output mean: {start_mean!r} -> {new_preset}: {blur_mean!r} -> centre weight 5: {edited_mean!r}")
