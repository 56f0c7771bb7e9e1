package stages

import "github.com/chimed/chimed/schemas"

// adaptRows is the task-adaptation stage's builder (AntGLM-Med's third
// step): an exam training question asked exactly as evaluation asks it
// (ExamPrompt), answered with its letter, the option's text and the
// explanation. The same chat is also an SFT row; adapt trains on exam
// questions alone, from the SFT model, so that the answer letter, which
// SFT's long mixed chats seldom reach within the context, is learned.
func adaptRows(record any) []any {
	q, ok := record.(*schemas.ExamQuestion)
	if !ok {
		return nil
	}
	opts, ok := examOptions(q)
	if !ok {
		return nil
	}
	return []any{schemas.SFTRow{Messages: []schemas.Turn{
		{Role: schemas.RoleUser, Content: ExamPrompt(q)},
		{Role: schemas.RoleAssistant, Content: examAnswer(q.Answer, opts, q.Explanation)},
	}}}
}
