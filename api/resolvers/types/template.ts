import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType('TemplateParameter')
export class TemplateParameterObject {
  @Field(() => String, { description: 'Written {{name}} in the template' }) name!: string;
  @Field(() => String) description!: string;
  @Field(() => String, { nullable: true, description: 'Null: it must be given' }) default!: string | null;
}

@ObjectType('TemplateObject', { description: 'An object a template holds, or one createFromTemplate made' })
export class TemplateObjectObject {
  @Field(() => String, { description: 'DATASOURCE, AUTOMATION or PARAMETER_SET' }) type!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'The datasource or automation kind' }) kind!: string;
}

@ObjectType('Template', { description: 'Flows to start from: built in, or saved from this workspace (saveAsTemplate)' })
export class TemplateObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String) description!: string;
  @Field(() => Boolean) builtIn!: boolean;
  @Field(() => [TemplateParameterObject]) parameters!: TemplateParameterObject[];
  @Field(() => [TemplateObjectObject]) objects!: TemplateObjectObject[];
  @Field(() => Int) size!: number;
}

@ObjectType('CreatedObject', { description: 'What createFromTemplate made' })
export class CreatedObject {
  @Field(() => String, { description: 'DATASOURCE, AUTOMATION or PARAMETER_SET' }) type!: string;
  @Field(() => ID, { nullable: true }) id!: string | null;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'CREATED, or SKIPPED for a parameter set this workspace already has' }) outcome!: string;
  @Field(() => Boolean, { description: 'Approval is required: it is a draft to review' }) draft!: boolean;
}
