/** The host's reason for refusing an input, beside the input (linked by `aria-describedby`). */
export function FieldError({ id, text }: { id: string; text: string }) {
  if (!text) return null;
  return (
    <p id={id} class="field-error" role="alert">
      {text}
    </p>
  );
}

/** The props that tie an input to its error. */
export const describedBy = (id: string, text: string) =>
  text ? { 'aria-describedby': id, 'aria-invalid': true as const } : {};
